// A stream of newline-separated records (the gateway's push stream) cut into lines.

/** Feeds chunks in; calls `onLine` with each complete, non-empty line, in order. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line !== '') onLine(line);
    }
  };
}
