package ota

// Clear is the secured part of a packet read as it is on the wire, for a
// packet that is not ciphered (or after deciphering): counter, padding
// count, status (response packets), RC/CC and data. Checksum and Data
// alias the input.
type Clear struct {
	Counter  Counter
	PCNTR    uint8
	Status   Status // response packets only
	Checksum []byte // the RC/CC as received
	Data     []byte // padding removed
}

// Clear reads r.Secured as clear text. It is meaningful only when the
// packet is not ciphered (Header.SPI.Ciphered false).
func (r *RawCommand) Clear() (Clear, error) {
	return splitClear(r.Secured, cmdSecOff, 6, r.ChecksumLen(), false)
}

// Clear reads r.Secured as clear text. It is meaningful only when the
// response is not ciphered (the command's SPI2 b5 clear).
func (r *RawResponse) Clear() (Clear, error) {
	return splitClear(r.Secured, len(r.UDH)+rspSecOff, 7, r.ChecksumLen(), true)
}

func splitClear(s []byte, base, fixed, cl int, response bool) (Clear, error) {
	var c Clear
	if len(s) < fixed+cl {
		return c, decodeErr(base+len(s), "secured part", "need %d bytes (CNTR..RC/CC), have %d", fixed+cl, len(s))
	}
	copy(c.Counter[:], s)
	c.PCNTR = s[5]
	if response {
		c.Status = Status(s[6])
	}
	c.Checksum = s[fixed : fixed+cl]
	d := s[fixed+cl:]
	if int(c.PCNTR) > len(d) {
		return c, decodeErr(base+5, "PCNTR", "%d padding bytes but only %d data bytes", c.PCNTR, len(d))
	}
	c.Data = d[:len(d)-int(c.PCNTR)]
	return c, nil
}
