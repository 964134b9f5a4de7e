export { filesystemSource, BUCKET_URL_PATH, type FilesystemSourceOptions } from './filesystem.js';
export { readJsonl, readCsv, readParquet, type ReaderOptions, type ReadCsvOptions } from './readers.js';
export type { FileItem } from './file-item.js';
