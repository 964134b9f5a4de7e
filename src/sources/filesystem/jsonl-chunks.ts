import { toJsonLines, type JsonLines } from '../../extract/json-lines.js';

const BOM = [0xef, 0xbb, 0xbf];

/**
 * A byte stream of JSON lines as chunks of about `chunkSize` lines, cut at line ends from
 * the stream's own buffers: no readline, no string per line. Each chunk is checked by
 * toJsonLines (every non-blank line a JSON object); `badLine` makes the error for a line.
 * A UTF-8 byte order mark at the start is skipped.
 */
export async function* jsonLineChunks(input: AsyncIterable<Buffer>, chunkSize: number, badLine: (lineNo: number, why: string) => Error): AsyncGenerator<JsonLines> {
  // bytes read but not yet yielded, and the line ends among them
  let parts: Buffer[] = [];
  let lines = 0;
  let firstLine = 1;
  const chunk = (last: Buffer): JsonLines => {
    let bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    if (firstLine === 1 && BOM.every((b, i) => bytes[i] === b)) bytes = bytes.subarray(3);
    const out = toJsonLines(bytes, badLine, firstLine);
    firstLine += lines;
    lines = 0;
    parts = [];
    return out;
  };
  for await (let buf of input) {
    for (let s = 0; ; ) {
      const nl = buf.indexOf(10, s);
      if (nl < 0) break;
      s = nl + 1;
      if (++lines < chunkSize) continue;
      const out = chunk(buf.subarray(0, s));
      if (out.lineCount > 0) yield out;
      buf = buf.subarray(s);
      s = 0;
    }
    if (buf.length > 0) parts.push(buf);
  }
  if (parts.length === 0) return;
  const last = parts.pop()!;
  const out = chunk(last);
  if (out.lineCount > 0) yield out;
}
