package counter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/flock"
)

// fileMagic starts every counter file.
const fileMagic = "simlab-counters v1\n"

// maxKeyLen bounds a counter key.
const maxKeyLen = 1024

// ErrCorrupt reports a counter file damaged somewhere other than a torn
// last record: simlab refuses to guess, since guessing could go backwards.
var ErrCorrupt = errors.New("counter: file is corrupt")

// ErrLocked reports a counter file held open by another process.
var ErrLocked = errors.New("counter: file is in use by another process")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// FileOptions tune OpenFile.
type FileOptions struct {
	// Reserve is how many values one durable write covers (default 1). With
	// 1 every Next costs an fsync and values are consecutive across a
	// crash; with N > 1 a crash skips at most N-1 values, which suits
	// receivers that only require a higher counter (TS 102 225 §5.1.1, SPI1
	// b5b4 = 10) but not those that require exactly one higher (b5b4 = 11).
	Reserve uint64
}

// File holds counters durably in an append-only log. Each record is
// key length (2 bytes, big-endian) ‖ key ‖ high-water mark (8 bytes) ‖
// CRC-32C of the preceding fields (4 bytes). The high-water mark is written
// and fsync'ed before any value up to it is handed out (write-ahead), so
// after a crash the counter resumes at the mark: never backwards, never a
// value twice. A torn last record is dropped on open; the log is compacted
// (temp file, fsync, rename, fsync directory) when it grows.
type File struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	unlock  func()
	cur     map[string]uint64
	hw      map[string]uint64
	reserve uint64
	records int
	err     error // sticky write error: the file must be reopened
	closed  bool
}

var _ hsm.Counters = (*File)(nil)

// OpenFile opens or creates the counter file at path (mode 0600). Only one
// process may hold it open at a time.
func OpenFile(path string, opts FileOptions) (*File, error) {
	if opts.Reserve == 0 {
		opts.Reserve = 1
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	c := &File{path: path, unlock: unlock, cur: map[string]uint64{}, hw: map[string]uint64{}, reserve: opts.Reserve}
	if err := c.load(); err != nil {
		unlock()
		return nil, err
	}
	return c, nil
}

// load reads the log, drops a torn tail and opens the file for appending.
func (c *File) load() error {
	data, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(data) == 0 {
		if err := c.rewrite(); err != nil {
			return err
		}
		return c.openAppend()
	}
	if err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	if !bytes.HasPrefix(data, []byte(fileMagic)) {
		if len(data) < len(fileMagic) && bytes.HasPrefix([]byte(fileMagic), data) {
			// Torn header of a file that never held a record.
			if err := c.rewrite(); err != nil {
				return err
			}
			return c.openAppend()
		}
		return fmt.Errorf("%w: %s does not start with %q", ErrCorrupt, c.path, fileMagic[:len(fileMagic)-1])
	}
	off := len(fileMagic)
	for off < len(data) {
		key, v, n, err := decodeRecord(data[off:])
		if err != nil {
			// Only the last record can be torn: appends are fsync'ed one
			// at a time. Anything else is damage.
			if len(data)-off > 2+maxKeyLen+12 {
				return fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, c.path, off, err)
			}
			if err := os.Truncate(c.path, int64(off)); err != nil {
				return fmt.Errorf("counter: drop torn record: %w", err)
			}
			break
		}
		if v < c.hw[key] {
			return fmt.Errorf("%w: %s at offset %d: counter %q goes back from %d to %d", ErrCorrupt, c.path, off, key, c.hw[key], v)
		}
		c.hw[key] = v
		c.records++
		off += n
	}
	for k, v := range c.hw {
		c.cur[k] = v
	}
	return c.openAppend()
}

func (c *File) openAppend() error {
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	c.f = f
	return nil
}

// decodeRecord parses one log record, returning its length.
func decodeRecord(b []byte) (key string, v uint64, n int, err error) {
	if len(b) < 2 {
		return "", 0, 0, io.ErrUnexpectedEOF
	}
	kl := int(binary.BigEndian.Uint16(b))
	if kl > maxKeyLen {
		return "", 0, 0, fmt.Errorf("key length %d over %d", kl, maxKeyLen)
	}
	n = 2 + kl + 8 + 4
	if len(b) < n {
		return "", 0, 0, io.ErrUnexpectedEOF
	}
	if crc32.Checksum(b[:n-4], crcTable) != binary.BigEndian.Uint32(b[n-4:]) {
		return "", 0, 0, errors.New("CRC mismatch")
	}
	return string(b[2 : 2+kl]), binary.BigEndian.Uint64(b[2+kl:]), n, nil
}

func appendRecord(b []byte, key string, v uint64) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, uint16(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, v)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// persist appends key's new high-water mark and fsyncs it.
func (c *File) persist(key string, hw uint64) error {
	rec := appendRecord(nil, key, hw)
	if _, err := c.f.Write(rec); err != nil {
		c.err = fmt.Errorf("counter: write %s: %w", c.path, err)
		return c.err
	}
	if err := c.f.Sync(); err != nil {
		c.err = fmt.Errorf("counter: fsync %s: %w", c.path, err)
		return c.err
	}
	c.hw[key] = hw
	c.records++
	if c.records > 4*len(c.hw)+4096 {
		if err := c.compact(); err != nil {
			c.err = err
			return err
		}
	}
	return nil
}

// compact rewrites the log with one record per counter.
func (c *File) compact() error {
	if err := c.f.Close(); err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	if err := c.rewrite(); err != nil {
		return err
	}
	c.records = len(c.hw)
	return c.openAppend()
}

// rewrite atomically replaces the file with the current high-water marks.
func (c *File) rewrite() error {
	b := []byte(fileMagic)
	for k, v := range c.hw {
		b = appendRecord(b, k, v)
	}
	if err := flock.WriteAtomic(c.path, b); err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	return nil
}

func (c *File) check(key string) error {
	if c.closed {
		return ErrClosed
	}
	if c.err != nil {
		return c.err
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("counter: key of %d bytes, at most %d", len(key), maxKeyLen)
	}
	return nil
}

// Next increments counter key and returns the new value, after the value
// is covered by a durable high-water mark.
func (c *File) Next(_ context.Context, key string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(key); err != nil {
		return 0, err
	}
	v := c.cur[key]
	if v == math.MaxUint64 {
		return 0, fmt.Errorf("counter %q: %w", key, hsm.ErrCounterExhausted)
	}
	v++
	if v > c.hw[key] {
		hw := v + (c.reserve - 1)
		if hw < v {
			hw = math.MaxUint64
		}
		if err := c.persist(key, hw); err != nil {
			return 0, err
		}
	}
	c.cur[key] = v
	return v, nil
}

// Get returns the current value of counter key. After a restart that is
// the last durable high-water mark, which may be above the last value
// handed out when Reserve > 1.
func (c *File) Get(_ context.Context, key string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(key); err != nil {
		return 0, err
	}
	return c.cur[key], nil
}

// Advance sets counter key to to, durably, failing with
// hsm.ErrCounterBackwards when to is below its current value.
func (c *File) Advance(_ context.Context, key string, to uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(key); err != nil {
		return err
	}
	if cur := c.cur[key]; to < cur {
		return fmt.Errorf("counter %q: at %d, asked for %d: %w", key, cur, to, hsm.ErrCounterBackwards)
	}
	if to > c.hw[key] {
		if err := c.persist(key, to); err != nil {
			return err
		}
	}
	c.cur[key] = to
	return nil
}

// Close closes the file and releases its lock.
func (c *File) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.f.Close()
	c.unlock()
	return err
}
