import { build } from 'esbuild';
import { TestServer } from './test-server.js';

/**
 * The test server with browser test pages on the same origin: `/<name>.html`
 * loads the esbuild bundle of `entries[name]`; the API lives under /api.
 */
export async function startPageServer(
  entries: Record<string, string>,
): Promise<{ server: TestServer; url: string }> {
  const files = new Map<string, { type: string; body: string }>();
  for (const [name, entry] of Object.entries(entries)) {
    const out = await build({
      entryPoints: [new URL(entry, import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    files.set(`/${name}.js`, { type: 'text/javascript', body: out.outputFiles[0]!.text });
    files.set(`/${name}.html`, {
      type: 'text/html',
      body: `<!doctype html><meta charset="utf-8"><title>${name}</title><script type="module" src="/${name}.js"></script>`,
    });
  }
  const server = new TestServer('/api');
  server.onOtherRequest = (req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) return false;
    res.writeHead(200, { 'content-type': file.type }).end(file.body);
    return true;
  };
  const url = await server.start();
  return { server, url };
}
