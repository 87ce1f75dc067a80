package plugin

import (
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// contentCodec is the proto codec with a shortcut for file content: an
// OpenResponse's bytes stay in the buffers gRPC read them into (one per
// HTTP/2 frame), and the reader copies them from there straight into the
// engine's buffer; it gives them back when it is done. The generic path
// copies every byte twice more (into one contiguous pooled buffer, then
// into the message); on a 1 GiB file that was most of the host's CPU for
// the transfer. The wire format is unchanged: plugins see nothing.
type contentCodec struct {
	encoding.CodecV2
	held sync.Map // *pluginpb.OpenResponse -> heldContent
}

type heldContent struct {
	data mem.BufferSlice
	skip int // bytes of the field's tag and length in the first buffer
}

func newContentCodec() *contentCodec {
	return &contentCodec{CodecV2: encoding.GetCodecV2("proto")}
}

func (c *contentCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*pluginpb.OpenResponse)
	if !ok || len(data) == 0 {
		return c.CodecV2.Unmarshal(data, v)
	}
	if skip, ok := contentHeader(data[0].ReadOnlyData(), data.Len()); ok {
		data.Ref() // gRPC frees its own reference when we return
		c.held.Store(m, heldContent{data, skip})
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// segments returns the content of m, as held buffers or as m.Data.
func (c *contentCodec) segments(m *pluginpb.OpenResponse) [][]byte {
	h, ok := c.held.Load(m)
	if !ok {
		if len(m.Data) == 0 {
			return nil
		}
		return [][]byte{m.Data}
	}
	hc := h.(heldContent)
	segs := make([][]byte, 0, len(hc.data))
	for i, b := range hc.data {
		d := b.ReadOnlyData()
		if i == 0 {
			d = d[hc.skip:]
		}
		if len(d) > 0 {
			segs = append(segs, d)
		}
	}
	return segs
}

// release gives back the buffers behind m; its segments must not be used
// afterwards.
func (c *contentCodec) release(m *pluginpb.OpenResponse) {
	if m == nil {
		return
	}
	if h, ok := c.held.LoadAndDelete(m); ok {
		h.(heldContent).data.Free()
	}
}

// contentHeader parses the start of a message made of field 1 (bytes)
// alone, as every OpenResponse is today, from its first buffer; it
// returns the size of the tag and length. Anything else goes the generic
// way.
func contentHeader(first []byte, total int) (int, bool) {
	num, typ, n := protowire.ConsumeTag(first)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return 0, false
	}
	l, m := protowire.ConsumeVarint(first[n:])
	if m < 0 || uint64(n+m)+l != uint64(total) {
		return 0, false
	}
	return n + m, true
}
