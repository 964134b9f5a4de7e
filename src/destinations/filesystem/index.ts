// Importing this folder registers the `filesystem` destination (factory.ts).
export { filesystem, storageFor, FILESYSTEM_CAPABILITIES, type FilesystemOptions } from './factory.js';
export { FilesystemClient, FILESYSTEM_MERGE_ADVICE } from './client.js';
export { Layout, DEFAULT_LAYOUT, KNOWN_PLACEHOLDERS, type LayoutValues } from './layout.js';
export { LocalFileStorage } from '../../common/local-file-storage.js';
export { joinPath, type FileStorage } from '../../common/file-storage.js';
