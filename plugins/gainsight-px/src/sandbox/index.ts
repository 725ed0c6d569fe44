export {
  PX_KEY_HEADER,
  pxSandbox,
  type PxSandboxOptions,
  type RunningPxSandbox,
  type ScriptedFault,
  startPxSandbox,
} from './px-sandbox.ts';
export { pxSchemaViolations } from './px-validation.ts';
export { describeFaults, readSandboxBehaviour, type SandboxBehaviour } from './sandbox-settings.ts';
