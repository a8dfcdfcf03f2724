/** Whether every source listed in a build manifest (dist/build.json) is unchanged. */
export function buildIsCurrent(manifestFile: string): boolean;
/** Starts an entry: the build when it is current, else the TypeScript sources. */
export function launch(name: 'kdbench' | 'kdbench-worker'): Promise<void>;
