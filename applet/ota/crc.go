package ota

import "hash/crc32"

// CRC16 returns the redundancy check of TS 102 225 §5.1.2 for CRC16: the
// ISO/IEC 13239 (X.25) CRC with generator X^16+X^12+X^5+1, register
// initialised to FFFF, bits taken least significant first, result XORed with
// FFFF. The spec's example: 01 02 03 04 05 gives 22 EC (first byte 22).
func CRC16(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range data {
		crc = crc>>8 ^ crc16Table[byte(crc)^b]
	}
	return ^crc
}

// CRC32 returns the redundancy check of TS 102 225 §5.1.2 for CRC32: the
// ISO/IEC 13239 CRC-32 (the IEEE polynomial, reflected, initial and final
// value FFFFFFFF). The spec's example: 01 02 03 04 05 gives 47 0B 99 F4.
func CRC32(data []byte) uint32 { return crc32.ChecksumIEEE(data) }

// crc16Table is the byte-wise table for the reflected polynomial 0x8408.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// appendRC appends the RC of data, most significant byte first.
func appendRC(dst []byte, a Algorithm, data []byte) []byte {
	switch a {
	case AlgCRC16:
		c := CRC16(data)
		return append(dst, byte(c>>8), byte(c))
	case AlgCRC32:
		c := CRC32(data)
		return append(dst, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	}
	return dst
}
