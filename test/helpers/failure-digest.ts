import { relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** The first lines of an error: its name and message, and where it was thrown. */
function digest(error: SerializedError | undefined): string {
  if (!error) return '(no error recorded)';
  const stack = (error.stack ?? '').split('\n').filter((line) => line.trim().startsWith('at '));
  const origin = (error as { VITEST_TEST_PATH?: string }).VITEST_TEST_PATH;
  return [
    `${error.name ?? 'Error'}: ${error.message}`,
    ...stack
      .slice(0, 4)
      .map(
        (line) =>
          `    ${line.trim().replaceAll(`file://${process.cwd()}/`, '').replaceAll(`${process.cwd()}/`, '')}`,
      ),
    ...(origin ? [`    (while ${relative(process.cwd(), origin)} ran)`] : []),
  ].join('\n');
}

/**
 * Repeats, after vitest's summary, what failed: each failed test and each
 * unhandled error in a few lines. A CI log often keeps only its last lines;
 * this puts the cause among them.
 */
export default class FailureDigest implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>) {
    const lines: string[] = [];
    for (const module of modules) {
      for (const error of module.errors())
        lines.push(`${relative(process.cwd(), module.moduleId)}\n  ${digest(error)}`);
      for (const test of module.children.allTests('failed'))
        lines.push(
          `${relative(process.cwd(), module.moduleId)} > ${test.fullName}\n  ${digest(test.result().errors?.[0])}`,
        );
    }
    for (const error of unhandled) lines.push(`unhandled error\n  ${digest(error)}`);
    if (lines.length > 0) console.error(`\nFailure digest:\n${lines.join('\n')}`);
  }
}
