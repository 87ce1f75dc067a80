package ftp

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net/textproto"
	"time"

	"github.com/jlaffaye/ftp"
)

// permanent reports whether retrying err on a new connection is useless:
// a 5xx reply (the server understood and refused), a refused login, or a
// name the protocol cannot carry (CR or LF). Anything else, a dropped or
// timed-out connection or a 4xx reply, may succeed on a fresh connection.
func permanent(err error) bool {
	var te *textproto.Error
	var le *loginError
	switch {
	case errors.As(err, &le), errors.Is(err, ftp.ErrInvalidCommand):
		return true
	case errors.As(err, &te):
		return te.Code >= 500 && te.Code < 600
	}
	return false
}

// replyErr turns a permanent refusal into the io/fs error the engine and
// the conformance suite expect. FTP's 550 means "unavailable": missing or
// not readable, servers such as vsftpd do not say which.
func replyErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code == ftp.StatusFileUnavailable {
		return fmt.Errorf("%w (or not readable): server replied %d %s", iofs.ErrNotExist, te.Code, te.Msg)
	}
	if errors.Is(err, ftp.ErrInvalidCommand) {
		return fmt.Errorf("%w: name holds CR or LF, which FTP cannot carry", iofs.ErrInvalid)
	}
	return err
}

// backoff waits before retry attempt n (1, 2, ...): 200 ms, 400 ms, 800 ms...
func backoff(ctx context.Context, n int) error {
	d := 200 * time.Millisecond << min(n-1, 6)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
