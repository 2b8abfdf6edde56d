package main

import "sort"

// compiledFeatures reports which optional, cgo-backed features this binary
// was built with.
func compiledFeatures() map[string]bool {
	return map[string]bool{
		"pcsc":   cgoEnabled,
		"usb":    cgoEnabled,
		"pkcs11": cgoEnabled,
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
