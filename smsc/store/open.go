package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged is returned by Open for a database file that cannot be read
// as a whole: truncated, or with pages that cannot be read. Options.Repair
// moves it aside and keeps what can be read.
var ErrDamaged = errors.New("store: damaged database file")

// bucketDamaged keeps the raw records that did not decode, by their key.
var bucketDamaged = []byte("damaged")

// Open opens (creating it if needed) the store in directory dir and loads
// its index. The directory is locked: a second process opening it waits a
// second and then fails.
//
// The file is read once, read-only, before bbolt maps it for writing:
// bbolt rebuilds its free list on a goroutine of its own, where a
// truncated file would crash the process with SIGBUS instead of returning
// an error. A file found damaged is ErrDamaged (or, with Options.Repair,
// moved aside and salvaged); a record that does not decode is moved to
// the "damaged" bucket and the rest is loaded.
func Open(dir string, opts Options) (*Store, error) {
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	s := &Store{
		opts:  opts,
		ops:   make(chan *op, opts.MaxBatch),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		index: newIndex(),
	}
	var bad []uint64
	if _, err := os.Stat(path); err == nil {
		var err error
		bad, err = s.read(path)
		if err != nil {
			if !errors.Is(err, ErrDamaged) || !opts.Repair {
				return nil, err
			}
			if bad, err = s.repair(path, err); err != nil {
				return nil, err
			}
		}
	}
	db, err := openRW(path, opts)
	if err != nil {
		return nil, err
	}
	s.db = db
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketMsgs); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return quarantine(tx, bad)
	}); err != nil {
		db.Close()
		return nil, err
	}
	for _, seq := range bad {
		opts.Logger.Warn("store: a damaged record was moved to the damaged bucket", "path", path, "seq", seq)
	}
	if err := s.commit(nil); err != nil { // apply retention at start
		db.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// openRW opens the database for writing; a panic of bbolt's (its checks
// of a damaged file) becomes ErrDamaged.
func openRW(path string, opts Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        time.Second,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		NoSync:         opts.NoSync,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// read loads every record of the file at path into the index, read-only.
// It returns the sequence numbers of records that did not decode. A fault
// while reading the mapped file (a truncated file: SIGBUS) or a panic of
// bbolt's is ErrDamaged.
func (s *Store) read(path string) (bad []uint64, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: %w (another process has it open)", path, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	defer db.Close()
	err = guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			fi, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if tx.Size() > fi.Size() {
				return fmt.Errorf("%w: %s is %d bytes but its pages reach %d: truncated", ErrDamaged, path, fi.Size(), tx.Size())
			}
			mb := tx.Bucket(bucketMsgs)
			if mb == nil {
				return nil
			}
			return mb.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return fmt.Errorf("%w: %s: a key of %d octets in %s (want 8)", ErrDamaged, path, len(k), bucketMsgs)
				}
				seq := binary.BigEndian.Uint64(k)
				m := new(smsc.Message)
				if err := json.Unmarshal(v, m); err != nil || m.ID == "" {
					bad = append(bad, seq)
					return nil
				}
				s.load(seq, m)
				return nil
			})
		})
	})
	return bad, err
}

// load adds a record read at Open to the index.
func (s *Store) load(seq uint64, m *smsc.Message) {
	if old, ok := s.byID[m.ID]; ok {
		s.drop(old)
	}
	s.insert(newEntry(seq, m))
	s.seq = max(s.seq, seq)
}

// guard runs f with faults on memory-mapped pages turned into panics,
// and any panic into ErrDamaged.
func guard(path string, f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s cannot be read: %v", ErrDamaged, path, r)
		}
	}()
	return f()
}

// quarantine moves the records at the sequence numbers bad to the damaged
// bucket.
func quarantine(tx *bolt.Tx, bad []uint64) error {
	if len(bad) == 0 {
		return nil
	}
	mb := tx.Bucket(bucketMsgs)
	db, err := tx.CreateBucketIfNotExists(bucketDamaged)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, seq := range bad {
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if v := mb.Get(k[:]); v != nil {
			if err := db.Put(k[:], append([]byte(nil), v...)); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		if err := mb.Delete(k[:]); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// repair moves the damaged file at path aside and writes a new one with
// every record that can still be read: walking forwards from the first
// key until the damage, then backwards from the last. The index holds
// them afterwards; the raw records that did not decode go to the damaged
// bucket of the new file.
func (s *Store) repair(path string, cause error) ([]uint64, error) {
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("store: repair: %w", err)
	}
	s.opts.Logger.Warn("store: damaged file moved aside; salvaging what can be read", "path", path, "moved_to", aside, "cause", cause.Error())
	recs, raw := salvage(aside)
	s.index = newIndex()
	db, err := openRW(path, s.opts)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var bad []uint64
	err = db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucketIfNotExists(bucketMsgs)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for _, seq := range sortedKeys(recs) {
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			if err := mb.Put(k[:], raw[seq]); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if m := recs[seq]; m != nil {
				s.load(seq, m)
			} else {
				bad = append(bad, seq)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: repair: %w", err)
	}
	s.opts.Logger.Warn("store: repaired", "path", path, "records_kept", len(s.byID), "undecodable", len(bad))
	return bad, nil
}

// salvage reads what it can of a damaged file: records by sequence
// number (nil where the raw value does not decode) and their raw values.
func salvage(path string) (map[uint64]*smsc.Message, map[uint64][]byte) {
	recs := map[uint64]*smsc.Message{}
	raw := map[uint64][]byte{}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return recs, raw
	}
	defer db.Close()
	take := func(k, v []byte) {
		if len(k) != 8 || v == nil {
			return
		}
		seq := binary.BigEndian.Uint64(k)
		if _, ok := raw[seq]; ok {
			return
		}
		raw[seq] = append([]byte(nil), v...)
		m := new(smsc.Message)
		if json.Unmarshal(v, m) == nil && m.ID != "" {
			recs[seq] = m
		} else {
			recs[seq] = nil
		}
	}
	for _, backwards := range []bool{false, true} {
		guard(path, func() error {
			return db.View(func(tx *bolt.Tx) error {
				mb := tx.Bucket(bucketMsgs)
				if mb == nil {
					return nil
				}
				c := mb.Cursor()
				if backwards {
					for k, v := c.Last(); k != nil; k, v = c.Prev() {
						take(k, v)
					}
					return nil
				}
				for k, v := c.First(); k != nil; k, v = c.Next() {
					take(k, v)
				}
				return nil
			})
		})
	}
	return recs, raw
}

func sortedKeys(m map[uint64]*smsc.Message) []uint64 {
	return slices.Sorted(maps.Keys(m))
}
