package soft_test

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

// An OTA integrity check: AES-CMAC under a key known only by its label
// (RFC 4493 §4, example 2).
func ExampleNewMemory() {
	ctx := context.Background()
	ks := soft.NewMemory()
	key, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	if err := ks.Import(ctx, "ota/kid", hsm.AES128, key); err != nil {
		panic(err)
	}
	msg, _ := hex.DecodeString("6bc1bee22e409f96e93d7e117393172a")
	mac, _ := ks.MAC(ctx, "ota/kid", msg)
	info, _ := ks.Info(ctx, "ota/kid")
	fmt.Printf("CC %x, KCV %s\n", mac[:8], info.KCV)
	// Output: CC 070a16b46b4d4144, KCV 7ad386
}
