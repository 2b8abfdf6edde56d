// An ESME on npm smpp 0.5.1, which binds with interface_version 0x50.
// Usage: node npm-esme.js HOST:PORT TEXT
// It submits TEXT (npm smpp picks the coding) asking for a receipt, and a
// message scheduled ten minutes ahead that it queries; then prints one JSON
// line: the bind's sc_interface_version, the submit's id, the receipt's
// short_message as npm smpp decodes it (data_coding 0: GSM 03.38), its
// data_coding, message_state and receipted_message_id, and the scheduled
// message's query_sm message_state.
var smpp = require('smpp');

var addr = process.argv[2], text = process.argv[3];
var out = {};
var session = smpp.connect('smpp://' + addr);
var timer = setTimeout(function() {
  console.error('npm-esme: timed out with ' + JSON.stringify(out));
  process.exit(3);
}, 20000);

function fail(what, pdu) {
  console.error('npm-esme: ' + what + ' failed: status ' + (pdu && pdu.command_status));
  process.exit(4);
}

function maybeDone() {
  if (out.id === undefined || out.receipt === undefined || out.scheduled_state === undefined) {
    return;
  }
  clearTimeout(timer);
  console.log(JSON.stringify(out));
  session.unbind(function() {
    session.close();
    process.exit(0);
  });
}

session.on('error', function(e) {
  console.error('npm-esme: ' + e);
  process.exit(2);
});

session.on('deliver_sm', function(pdu) {
  session.send(pdu.response());
  if (pdu.esm_class & 0x04) {
    out.receipt = pdu.short_message.message;
    out.receipt_dcs = pdu.data_coding;
    out.message_state = pdu.message_state;
    out.receipted_message_id = pdu.receipted_message_id;
    maybeDone();
  }
});

session.bind_transceiver({system_id: 'npm', password: 'secret'}, function(pdu) {
  if (pdu.command_status !== 0) {
    fail('bind', pdu);
  }
  out.sc_interface_version = pdu.sc_interface_version;
  session.submit_sm({
    source_addr_ton: 5, source_addr: 'SimLab', destination_addr: '999000701',
    registered_delivery: 1, short_message: text
  }, function(pdu) {
    if (pdu.command_status !== 0) {
      fail('submit_sm', pdu);
    }
    out.id = pdu.message_id;
    maybeDone();
  });
  session.submit_sm({
    source_addr_ton: 5, source_addr: 'SimLab', destination_addr: '999000702',
    schedule_delivery_time: '000000001000000R', short_message: 'later'
  }, function(pdu) {
    if (pdu.command_status !== 0) {
      fail('scheduled submit_sm', pdu);
    }
    session.query_sm({message_id: pdu.message_id, source_addr_ton: 5, source_addr: 'SimLab'}, function(q) {
      if (q.command_status !== 0) {
        fail('query_sm', q);
      }
      out.scheduled_state = q.message_state;
      maybeDone();
    });
  });
});
