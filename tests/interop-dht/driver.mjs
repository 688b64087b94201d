// Drives one bittorrent-dht node for the interop tests: one JSON command per stdin line, one JSON
// event per stdout line. Loopback only; exits when stdin closes.
import DHT from 'bittorrent-dht'
import readline from 'node:readline'

let dht = null
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n')

function start (cmd) {
  dht = new DHT({ bootstrap: cmd.bootstrap && cmd.bootstrap.length ? cmd.bootstrap : false, host: '127.0.0.1' })
  dht.on('error', err => print({ event: 'error', message: String(err) }))
  dht.on('warning', err => print({ event: 'warning', message: String(err) }))
  dht.on('ready', () => print({ event: 'ready', nodes: dht.toJSON().nodes.length }))
  dht.listen(0, '127.0.0.1', () => print({ event: 'listening', port: dht.address().port, id: dht.nodeId.toString('hex') }))
}

function lookup (cmd) {
  const peers = new Set()
  const onPeer = (peer, infoHash) => {
    if (infoHash.toString('hex') === cmd.infoHash) peers.add(peer.host + ':' + peer.port)
  }
  dht.on('peer', onPeer)
  dht.lookup(cmd.infoHash, (err, queried) => {
    dht.removeListener('peer', onPeer)
    print({ event: 'lookup', infoHash: cmd.infoHash, peers: [...peers], queried, error: err ? String(err) : null })
  })
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', line => {
  const cmd = JSON.parse(line)
  switch (cmd.cmd) {
    case 'start': return start(cmd)
    case 'announce':
      return dht.announce(cmd.infoHash, cmd.port, err => print({ event: 'announced', infoHash: cmd.infoHash, error: err ? String(err) : null }))
    case 'lookup': return lookup(cmd)
    case 'nodes': return print({ event: 'nodes', nodes: dht.toJSON().nodes })
    default: return print({ event: 'error', message: 'unknown command ' + cmd.cmd })
  }
})
rl.on('close', () => {
  if (dht) dht.destroy(() => process.exit(0))
  else process.exit(0)
})
