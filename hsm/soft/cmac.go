package soft

import (
	"crypto/cipher"
	"crypto/subtle"
)

// cmac holds the two subkeys of CMAC (NIST SP 800-38B §6.1, RFC 4493 §2.3)
// for one block cipher key, so a MAC costs no key schedule.
type cmac struct {
	b      cipher.Block
	k1, k2 []byte
}

// newCMAC derives the CMAC subkeys K1 and K2 for b (RFC 4493 §2.3,
// "Generate_Subkey"), for a 64- or 128-bit block cipher.
func newCMAC(b cipher.Block) *cmac {
	bs := b.BlockSize()
	rb := byte(0x87) // R_128, SP 800-38B §5.3
	if bs == 8 {
		rb = 0x1b // R_64
	}
	l := make([]byte, bs)
	b.Encrypt(l, l)
	k1 := shiftXor(l, rb)
	k2 := shiftXor(k1, rb)
	return &cmac{b: b, k1: k1, k2: k2}
}

// shiftXor returns in << 1, XORed with rb in the last byte when the most
// significant bit of in was set.
func shiftXor(in []byte, rb byte) []byte {
	out := make([]byte, len(in))
	var carry byte
	for i := len(in) - 1; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	out[len(out)-1] ^= byte(subtle.ConstantTimeByteEq(carry, 1)) * rb
	return out
}

// sum returns the full CMAC tag of msg (RFC 4493 §2.4, "AES-CMAC").
func (c *cmac) sum(msg []byte) []byte {
	bs := len(c.k1)
	// One allocation for the chaining value, the last block and the
	// result: arrays on the stack would escape through the cipher.Block
	// interface anyway.
	buf := make([]byte, 2*bs)
	xs, ls := buf[:bs:bs], buf[bs:]
	n := (len(msg) + bs - 1) / bs
	complete := n > 0 && len(msg)%bs == 0
	if n == 0 {
		n = 1
	}
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(xs, xs, msg[i*bs:(i+1)*bs])
		c.b.Encrypt(xs, xs)
	}
	tail := msg[(n-1)*bs:]
	if complete {
		subtle.XORBytes(ls, tail, c.k1)
	} else {
		copy(ls, tail)
		ls[len(tail)] = 0x80
		subtle.XORBytes(ls, ls, c.k2)
	}
	subtle.XORBytes(xs, xs, ls)
	c.b.Encrypt(xs, xs)
	clear(ls)
	return xs
}
