/** Path of the Electron-ABI build of better-sqlite3, building it first if needed; throws with the reason. */
export function electronSqliteBinding(root: string): string;
