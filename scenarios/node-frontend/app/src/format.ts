// Number formatting for the table.
export function formatSeconds(seconds: number): string {
  return seconds >= 100 ? `${seconds.toFixed(0)} s` : `${seconds.toPrecision(3)} s`;
}

export function formatBytes(bytes: number): string {
  const megabytes = bytes / 1e6;
  return megabytes >= 1000 ? `${(megabytes / 1000).toPrecision(3)} GB` : `${megabytes.toPrecision(3)} MB`;
}
