package phonestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkHeader looks at the two meta pages of an existing bbolt file before
// bbolt opens it, and refuses what bbolt would trip over in a way no caller
// can catch: a file cut short (pages beyond its end are read through a
// memory map) and a file without a synced freelist (bbolt then rebuilds the
// freelist by walking every page on a goroutine of its own, where a damaged
// page panics the process). This store always syncs its freelist. The
// layout read here is bbolt's file format 2 (go.etcd.io/bbolt
// internal/common: a 16-byte page header, then magic, version, page size,
// flags, root bucket, freelist, high-water page id, txid, checksum); bbolt
// exports no way to read it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("phonestore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("phonestore: %w", err)
	}
	if st.Size() == 0 {
		return nil // bbolt initialises an empty file
	}
	m0, err := readMeta(f, 0)
	if err != nil {
		return damaged(path, err)
	}
	best := m0
	if m0.valid {
		if m1, err := readMeta(f, int64(m0.pageSize)); err == nil && m1.valid && m1.txid > m0.txid {
			best = m1
		}
	} else {
		for _, ps := range []int64{int64(os.Getpagesize()), 4096, 16384, 65536} {
			if m1, err := readMeta(f, ps); err == nil && m1.valid {
				best = m1
				break
			}
		}
	}
	switch {
	case !best.valid:
		return damaged(path, errors.New("no valid header page"))
	case best.freelist == noFreelist:
		return damaged(path, errors.New("no freelist (not written by this store)"))
	case best.root >= best.pgid || best.freelist >= best.pgid:
		return damaged(path, errors.New("header points beyond the last page"))
	case best.pgid > uint64(st.Size())/uint64(best.pageSize):
		return damaged(path, fmt.Errorf("cut short: %d bytes where its header says %d", st.Size(), best.pgid*uint64(best.pageSize)))
	}
	// bbolt copies the freelist into memory at open: its length must fit
	// the pages it claims, which must fit the file.
	ps := uint64(best.pageSize)
	var fh [pageHeader + 8]byte
	if _, err := f.ReadAt(fh[:], int64(best.freelist*ps)); err != nil {
		return damaged(path, fmt.Errorf("freelist page: %w", err))
	}
	le := binary.LittleEndian
	count, overflow := uint64(le.Uint16(fh[10:])), uint64(le.Uint32(fh[12:]))
	room := (overflow + 1) * ps
	if count == 0xFFFF { // the count is in the first element
		count = le.Uint64(fh[pageHeader:]) + 1
	}
	if best.freelist+overflow+1 > best.pgid || count > room/8 {
		return damaged(path, errors.New("freelist does not fit its pages"))
	}
	return nil
}

// meta is what checkHeader needs of a bbolt meta page.
type meta struct {
	valid                bool
	pageSize             uint32
	root, freelist, pgid uint64
	txid                 uint64
}

const (
	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)
	pageHeader  = 16
	metaSize    = 56 // the fields before the checksum
)

// readMeta reads the meta page at offset off.
func readMeta(r io.ReaderAt, off int64) (meta, error) {
	var b [pageHeader + metaSize + 8]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return meta{}, fmt.Errorf("header page at %d: %w", off, err)
	}
	le := binary.LittleEndian
	m := b[pageHeader:]
	h := fnv.New64a()
	h.Write(m[:metaSize])
	out := meta{
		pageSize: le.Uint32(m[8:]),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pgid:     le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}
	out.valid = le.Uint32(m[0:]) == boltMagic && le.Uint32(m[4:]) == boltVersion && le.Uint64(m[56:]) == h.Sum64() && out.pageSize >= 512
	return out, nil
}
