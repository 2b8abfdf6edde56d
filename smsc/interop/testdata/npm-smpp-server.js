// Minimal npm smpp 0.5.1 server: binds anyone, answers submit_sm with an id.
var smpp = require('smpp');
var n = 0;
var server = smpp.createServer(function(session) {
  session.on('bind_transceiver', function(pdu) { session.send(pdu.response()); });
  session.on('bind_transmitter', function(pdu) { session.send(pdu.response()); });
  session.on('enquire_link', function(pdu) { session.send(pdu.response()); });
  session.on('unbind', function(pdu) { session.send(pdu.response()); session.close(); });
  session.on('submit_sm', function(pdu) { session.send(pdu.response({message_id: String(++n)})); });
});
server.listen(parseInt(process.argv[2] || '2776'), '127.0.0.1');
