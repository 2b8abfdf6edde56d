// A minimal SMSC on the npm "smpp" package (v0.5.1), the peer that
// docs/benchmarks.md measures simlab's SMSC beside, with the same client.
// It accepts every bind, answers submit_sm with a message id and, when
// registered_delivery asks for it, sends a DELIVRD receipt (SMPP v3.4
// Appendix B text plus receipted_message_id and message_state TLVs) to the
// session that submitted. No store, no routing: a lower bound on the work
// an SMSC does.
//
//   mkdir -p /tmp/peer && cd /tmp/peer && npm install smpp@0.5.1
//   NODE_PATH=/tmp/peer/node_modules node docs/bench/smpp-peer.js 2776
const smpp = require('smpp');

const port = Number(process.argv[2] || 2776);
let next = 1;

function stamp(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

const server = smpp.createServer((session) => {
  const bind = (pdu) => session.send(pdu.response({ system_id: 'npm-smpp-peer' }));
  session.on('bind_transceiver', bind);
  session.on('bind_transmitter', bind);
  session.on('bind_receiver', bind);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
  session.on('deliver_sm_resp', () => {});
  session.on('error', () => {});
  session.on('submit_sm', (pdu) => {
    const id = (next++).toString(16);
    session.send(pdu.response({ message_id: id }));
    if ((pdu.registered_delivery & 0x03) === 0) return;
    const now = stamp(new Date());
    session.deliver_sm({
      source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi, source_addr: pdu.destination_addr,
      dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi, destination_addr: pdu.source_addr,
      esm_class: 0x04,
      short_message: `id:${id} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:`,
      receipted_message_id: id,
      message_state: 2,
    });
  });
});
server.listen(port, '127.0.0.1', () => console.error(`npm smpp peer listening on 127.0.0.1:${port}`));
