import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** The README's `ts` and `tsx` blocks, de-indented, in order. */
function blocks(markdown: string): { lang: 'ts' | 'tsx'; code: string }[] {
  const out: { lang: 'ts' | 'tsx'; code: string }[] = [];
  const fence = /^( *)```(tsx?)\n([\s\S]*?)^\1```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const indent = match[1]!.length;
    const code = match[3]!
      .split('\n')
      .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
      .join('\n');
    out.push({ lang: match[2] as 'ts' | 'tsx', code });
  }
  return out;
}

/** What the README's snippets leave to the app: its session, its rendering, its data, its store. */
const APP_GLOBALS = `
declare const session: { token: string; refresh(): Promise<boolean> };
declare function render(phase: string, pending: number): void;
declare const rows: { at: number; value: number }[];
type Store = import('qnox-offline-sync').QnoxLocalStore;
declare const MyStore: new () => Store;
declare function reopenMyStore(store: Store): Promise<Store>;
`;

describe("the README's code", () => {
  it('every ts and tsx block compiles under strict, against the package entry points', () => {
    const found = blocks(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(found.length).toBeGreaterThanOrEqual(4);
    const dir = mkdtempSync(join(tmpdir(), 'qnox-readme-'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const files = found.map((block, i) => {
      const file = `block-${i + 1}.${block.lang}`;
      writeFileSync(join(dir, file), block.code);
      return file;
    });
    writeFileSync(join(dir, 'app-globals.d.ts'), APP_GLOBALS);
    const src = (path: string) => [join(root, 'src', path)];
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM'],
          jsx: 'react-jsx',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
          paths: {
            'qnox-offline-sync': src('index.ts'),
            'qnox-offline-sync/testing': src('testing/index.ts'),
            'qnox-offline-sync/*': src('*.ts'),
          },
        },
        files: ['app-globals.d.ts', ...files],
      }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  }, 120_000);
});
