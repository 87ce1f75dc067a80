package snapshot

import (
	"fmt"

	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// ErrorsPerPage bounds one blob of per-path errors.
const ErrorsPerPage = 4096

// EncodeErrors is the plaintext of one page of per-path errors.
func EncodeErrors(errs []vfs.PathError) []byte {
	var e codec.Encoder
	e.Byte(1)
	e.Uvarint(uint64(len(errs)))
	for _, x := range errs {
		e.String(x.Path)
		e.String(x.Message)
	}
	return e.B
}

// DecodeErrors parses a page made by EncodeErrors.
func DecodeErrors(b []byte) ([]vfs.PathError, error) {
	d := codec.NewDecoder(b)
	if v := d.Byte(); v != 1 && d.Err() == nil {
		d.Fail("errors page version %d", v)
	}
	n := d.Count(2)
	out := make([]vfs.PathError, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		out = append(out, vfs.PathError{Path: d.String(), Message: d.String()})
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("errors page: %w", err)
	}
	return out, nil
}
