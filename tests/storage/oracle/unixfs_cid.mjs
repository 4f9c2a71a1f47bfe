// Reference CIDs computed by the JavaScript UnixFS importer configured the
// way Kubo's `ipfs add` behaves (256 KiB fixed chunks, balanced DAG with 174
// links per node; v1 = --cid-version 1 with raw leaves, v0 = Kubo's defaults).
// Usage: node unixfs_cid.mjs NODE_MODULES_DIR CID_VERSION FILE...
// Prints one root CID per file, in order.
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [modulesDir, version, ...files] = process.argv.slice(2)
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

for (const file of files) {
  let root
  const source = [{ content: createReadStream(file) }]
  for await (const entry of importer(source, new BlackHoleBlockstore(), options)) {
    root = entry.cid
  }
  process.stdout.write(root.toString() + '\n')
}
