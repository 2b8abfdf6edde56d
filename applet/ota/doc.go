// Package ota implements the secured packets of ETSI TS 102 225 (3GPP TS
// 31.115 for the SMS bearer): the command packet a server sends to a UICC
// application (addressed by its TAR) and the response packet (Proof of
// Receipt, PoR) the card sends back.
//
// The package is a codec with a thin cryptographic layer. Layout code (SPI,
// KIc, KID, TAR, counters, CPL/CHL, padding, UDH concatenation) is pure; the
// cryptographic operations (ciphering with KIc, cryptographic checksums with
// KID) go through an hsm.Keystore by key reference, so keys never enter this
// package. Redundancy checks (CRC16/CRC32, TS 102 225 §5.1.2) are computed
// here.
//
// Server side: SealCommand builds a command packet, OpenResponse checks and
// deciphers a PoR. Card side: OpenCommand parses, deciphers and verifies a
// command packet against the card's keyset, counter and the TAR's minimum
// security level (MSL, TS 102 226), answering with a Status (the
// PoR status codes 00-0C) on failure without changing any card state; and
// SealResponse builds the PoR. Reassembler joins concatenated SMS carrying
// one command packet (TS 31.115 §4.2).
//
// Layouts (TS 31.115 §4.2 and §4.4; the field coding pySim and
// onomondo-uicc follow, testdata/vectors.txt):
//
//	command:  [UDH 02 70 00] CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC(0,2,4,8) data pad
//	response: [UDH 02 71 00] RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) STS(1) RC/CC data pad
//
// The part after "|" is ciphered when the SPI asks for it. A command's CC is
// computed over CPL..TAR, CNTR, PCNTR, data and padding (not the UDH); a
// response's CC is computed over the UDH 02 71 00, RPL..TAR, CNTR, PCNTR,
// STS, data and padding.
package ota
