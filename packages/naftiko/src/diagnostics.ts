/** A location inside the YAML document: keys and sequence indexes from the root. */
export type YamlPath = readonly (string | number)[];

export type Severity = 'error' | 'warning';

/** One finding about a capability file. Errors stop it from being served; warnings do not. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  /** Dotted YAML path, e.g. `capability.consumes[0].resources[0].name`; empty for the whole document. */
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** `capability.consumes[0].resources[0].name`; keys that are not plain words are quoted: `with["a.b"]`. */
export function formatPath(path: YamlPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** `file:line:col: warning: path: message`, the shape editors and CI annotate. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = diagnostic.line !== undefined ? `${diagnostic.file}:${diagnostic.line}:${diagnostic.column ?? 1}` : diagnostic.file;
  return `${where}: ${diagnostic.severity}: ${diagnostic.path ? `${diagnostic.path}: ` : ''}${diagnostic.message}`;
}

/** A capability file that cannot be served; the message lists every error with file, path and reason. */
export class CapabilityError extends Error {
  override readonly name = 'CapabilityError';
  readonly diagnostics: readonly Diagnostic[];
  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(
      `capability ${file} cannot be served (${errors.length} error${errors.length === 1 ? '' : 's'}):\n` +
        errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n'),
    );
    this.diagnostics = diagnostics;
  }
}

export type Locate = (path: YamlPath) => { line: number; column: number } | undefined;

/** Where a path of the document being read really is: another file (an import) or another path (a keyed map read as a list). */
export interface Placement {
  readonly file: string;
  readonly path: YamlPath;
  readonly locate: Locate;
}

/** Collects diagnostics for one file, placing each at its YAML line and column when known. */
export class DiagnosticSink {
  constructor(
    readonly file: string,
    private readonly locate: Locate = () => undefined,
    private readonly place?: (path: YamlPath) => Placement | undefined,
    readonly diagnostics: Diagnostic[] = [],
  ) {}

  /** The same file read through a placement (paths of the normalized document mapped back to the YAML). */
  placed(place: (path: YamlPath) => Placement | undefined): DiagnosticSink {
    return new DiagnosticSink(this.file, this.locate, place, this.diagnostics);
  }

  /** Takes in what another file's sink found (an imported file). */
  adopt(diagnostics: readonly Diagnostic[]): void {
    for (const diagnostic of diagnostics) {
      if (!this.diagnostics.some((d) => d.file === diagnostic.file && d.path === diagnostic.path && d.message === diagnostic.message))
        this.diagnostics.push(diagnostic);
    }
  }

  error(path: YamlPath, message: string): void {
    this.add('error', path, message);
  }

  warning(path: YamlPath, message: string): void {
    this.add('warning', path, message);
  }

  /** This file first, then imported files; in document order (unplaced ones first), errors before warnings at the same place. */
  sorted(): Diagnostic[] {
    const files = [this.file, ...new Set(this.diagnostics.map((d) => d.file))];
    return [...this.diagnostics].sort(
      (a, b) =>
        files.indexOf(a.file) - files.indexOf(b.file) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0) ||
        (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
    );
  }

  get hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  private add(severity: Severity, path: YamlPath, message: string): void {
    const placement = this.place?.(path) ?? { file: this.file, path, locate: this.locate };
    const text = formatPath(placement.path);
    if (this.diagnostics.some((d) => d.severity === severity && d.file === placement.file && d.path === text && d.message === message))
      return;
    const position = placement.locate(placement.path);
    this.diagnostics.push({ severity, file: placement.file, path: text, ...(position ?? {}), message });
  }
}
