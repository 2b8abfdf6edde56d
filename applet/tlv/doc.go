// Package tlv holds the two tag-length-value codings that travel between a
// terminal and a UICC:
//
//   - BER-TLV (ISO/IEC 7816-4 §5.2, the X.690 subset cards use): FCP and FCI
//     templates (tags 62, 6F), EF_DIR records (61), and the outer templates
//     of CAT: proactive commands (D0) and envelopes (D1 SMS-PP download,
//     D3 menu selection, D6 event download, …). See BER, ParseBER,
//     ParseAllBER and AppendBER.
//   - COMPREHENSION-TLV (ETSI TS 102 223 §8 and annex C): the simple objects
//     inside those templates (command details, device identities, text
//     strings, …).
//
// The package is a pure codec: no I/O, no clock, no globals. Parsers return
// values that alias the input (no copies), and the ParseAll functions append
// to a caller's slice so that a parse into a slice with enough capacity does
// not allocate. Encoders append to a caller's buffer. Decoding errors say at
// which offset decoding failed and what was expected, and wrap a sentinel
// error that callers can test with errors.Is.
package tlv
