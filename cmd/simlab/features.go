package main

import (
	"sort"

	"github.com/simlab-dev/simlab/hsm/pkcs11"
	"github.com/simlab-dev/simlab/simulator/devices"
	"github.com/simlab-dev/simlab/simulator/pcsc"
)

// compiledFeatures reports which optional, cgo-backed features this binary
// was built with, as the packages behind them say (their Supported
// constants).
func compiledFeatures() map[string]bool {
	return map[string]bool{
		"pcsc":   pcsc.Supported,
		"usb":    devices.USBSupported,
		"pkcs11": pkcs11.Supported,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
