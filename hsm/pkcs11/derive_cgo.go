//go:build cgo

package pkcs11

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// derivationStringData builds a CK_KEY_DERIVATION_STRING_DATA
// {CK_BYTE_PTR pData; CK_ULONG ulLen} (PKCS#11 v2.40 §2.33.1) for data, as
// the bytes miekg/pkcs11 copies into the mechanism parameter. pData points
// to C memory (the struct bytes themselves are copied by the library, so a
// Go pointer may not be stored in them); free releases it.
func derivationStringData(data []byte) (param []byte, free func()) {
	p := C.CBytes(data)
	var s struct {
		ptr uintptr
		n   C.ulong
	}
	s.ptr = uintptr(p)
	s.n = C.ulong(len(data))
	param = C.GoBytes(unsafe.Pointer(&s), C.int(unsafe.Sizeof(s)))
	return param, func() { C.free(p) }
}
