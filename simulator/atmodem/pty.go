package atmodem

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is an emulated modem's pseudo-terminal: programs open the slave side
// (Path, or Link when set) as if it were /dev/ttyACM0.
type PTY struct {
	// Path is the slave device, e.g. /dev/pts/7.
	Path string
	// Link is the symbolic link to Path, when one was asked for.
	Link string

	master, slave *os.File
}

// OpenPTY creates a pseudo-terminal in raw mode and, when link is not
// empty, a symbolic link to its slave at link (an existing symbolic link
// there is replaced; any other file is an error). The emulator keeps the
// slave open itself, so the master never sees EIO between two clients.
func OpenPTY(link string) (*PTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("atmodem: open pty: %w", err)
	}
	p := &PTY{Path: slave.Name(), master: master, slave: slave}
	if err := makeRaw(slave); err != nil {
		p.Close()
		return nil, err
	}
	if link != "" {
		if fi, err := os.Lstat(link); err == nil {
			if fi.Mode()&os.ModeSymlink == 0 {
				p.Close()
				return nil, fmt.Errorf("atmodem: %s exists and is not a symbolic link", link)
			}
			if err := os.Remove(link); err != nil {
				p.Close()
				return nil, fmt.Errorf("atmodem: replace link: %w", err)
			}
		}
		if err := os.Symlink(p.Path, link); err != nil {
			p.Close()
			return nil, fmt.Errorf("atmodem: link pty: %w", err)
		}
		p.Link = link
	}
	return p, nil
}

// makeRaw puts the terminal in raw mode (no echo, no CR/LF translation),
// like cfmakeraw(3), so that nothing the modem writes comes back to it.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("atmodem: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("atmodem: set termios: %w", err)
	}
	return nil
}

// Master is the modem's side of the pseudo-terminal.
func (p *PTY) Master() *os.File { return p.master }

// Close removes the link and closes both sides.
func (p *PTY) Close() error {
	var errs []error
	if p.Link != "" {
		if target, err := os.Readlink(p.Link); err == nil && target == p.Path {
			if err := os.Remove(p.Link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := p.master.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := p.slave.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Emulate serves m on a new pseudo-terminal linked at link until ctx is
// done, then removes the link. ready, when not nil, is called with the PTY
// once clients may open it.
func Emulate(ctx context.Context, m *Modem, link string, ready func(*PTY)) error {
	p, err := OpenPTY(link)
	if err != nil {
		return err
	}
	defer p.Close()
	if ready != nil {
		ready(p)
	}
	return m.Serve(ctx, p.master)
}
