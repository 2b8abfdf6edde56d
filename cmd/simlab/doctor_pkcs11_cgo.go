//go:build cgo

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/pkcs11"
)

// pkcs11Probe loads the PKCS#11 module at path, initialises it
// (C_Initialize) and describes the library and its tokens (C_GetInfo,
// C_GetSlotList, C_GetTokenInfo). It logs in nowhere.
func pkcs11Probe(ctx context.Context, path string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m := pkcs11.New(path)
	if m == nil {
		return "", fmt.Errorf("cannot load the module (dlopen failed)")
	}
	defer m.Destroy()
	if err := m.Initialize(); err != nil {
		return "", fmt.Errorf("C_Initialize: %w", err)
	}
	defer m.Finalize()
	info, err := m.GetInfo()
	if err != nil {
		return "", fmt.Errorf("C_GetInfo: %w", err)
	}
	slots, err := m.GetSlotList(true)
	if err != nil {
		return "", fmt.Errorf("C_GetSlotList: %w", err)
	}
	var tokens []string
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if l := strings.TrimSpace(ti.Label); l != "" {
			tokens = append(tokens, l)
		}
	}
	desc := fmt.Sprintf("%s %s %d.%d", strings.TrimSpace(info.ManufacturerID), strings.TrimSpace(info.LibraryDescription),
		info.LibraryVersion.Major, info.LibraryVersion.Minor)
	switch {
	case len(tokens) > 0:
		desc += fmt.Sprintf("; %d token(s): %s", len(tokens), strings.Join(tokens, ", "))
	default:
		desc += fmt.Sprintf("; %d slot(s) with a token", len(slots))
	}
	return desc, nil
}
