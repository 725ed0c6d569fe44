import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small real filesystem that can be filled up: what a full disk does to SQLite, without filling the host's. */
export interface Tmpfs {
  readonly dir: string;
  /** Writes a filler file until the filesystem refuses with ENOSPC. */
  fill(): void;
  /** Deletes the filler: the space is free again. */
  free(): void;
  /** The same filesystem, read-only from now on. */
  remountReadOnly(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeBytes` (needs the right to mount, e.g. root in a container); undefined when refused. */
export function mountTmpfs(sizeBytes: number): Tmpfs | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    remountReadOnly() {
      const remounted = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
      if (remounted.status !== 0) throw new Error(`remount read-only failed: ${remounted.stderr}`);
    },
    unmount() {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const canMountTmpfs = (() => {
  const probe = mountTmpfs(64 * 1024);
  probe?.unmount();
  return probe !== undefined;
})();
