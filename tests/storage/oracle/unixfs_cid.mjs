// Reference CID for a file, computed by the JavaScript UnixFS importer
// configured the way Kubo's `ipfs add` behaves.
// Usage: node unixfs_cid.mjs NODE_MODULES_DIR FILE CID_VERSION
// Prints the root CID on stdout.
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [modulesDir, file, version] = process.argv.slice(2)
const load = (name, entry) => import(pathToFileURL(path.join(modulesDir, name, entry)).href)
const { importer } = await load('ipfs-unixfs-importer', 'dist/src/index.js')
const { fixedSize } = await load('ipfs-unixfs-importer', 'dist/src/chunker/fixed-size.js')
const { balanced } = await load('ipfs-unixfs-importer', 'dist/src/layout/balanced.js')
const { BlackHoleBlockstore } = await load('blockstore-core', 'dist/src/black-hole.js')

const v1 = version === '1'
const options = {
  chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 }),
  cidVersion: v1 ? 1 : 0,
  rawLeaves: v1,
  leafType: 'file',
  reduceSingleLeafToSelf: true,
  wrapWithDirectory: false
}

let root
for await (const entry of importer([{ content: createReadStream(file) }], new BlackHoleBlockstore(), options)) {
  root = entry.cid
}
process.stdout.write(root.toString() + '\n')
