package engine

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/cdc"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/importers"
)

// fileJob is one regular file to read; done is closed when the other
// fields are final.
type fileJob struct {
	rec     importers.Record
	done    chan struct{}
	chunks  []tree.Chunk
	content blob.ID
	size    int64
	err     error
}

// chunkJob is one chunk for a sealer; it writes *out and calls wg.Done.
type chunkJob struct {
	data    []byte
	release func() // data is the chunker's, kept until then
	hint    *streamHint
	out     *tree.Chunk
	wg      *sync.WaitGroup
	err     *error
	mu      *sync.Mutex
}

// readFiles reads and chunks files. Small files are sealed right here; the
// chunks of large ones go to the sealers so that one big file still keeps
// every core busy.
func (in *ingest) readFiles() error {
	var ch *cdc.Chunker
	for job := range in.files {
		if in.ctx.Err() != nil {
			job.err = in.ctx.Err()
			close(job.done)
			continue
		}
		job.err = in.readFile(job, &ch)
		if job.err == nil {
			job.content = in.r.fileContentID(job.chunks)
			in.o.Progress.Files.Add(1)
		}
		close(job.done)
	}
	return nil
}

func (in *ingest) readFile(job *fileJob, ch **cdc.Chunker) error {
	rc, err := in.imp.Open(in.ctx, job.rec.Path)
	if err != nil {
		return wrapPathErr(job.rec.Path, err)
	}
	defer rc.Close()
	if job.rec.Size < int64(in.r.cfg.Chunker.Min) {
		return in.readSmall(job, rc)
	}
	if *ch == nil {
		if *ch, err = in.newChunker(); err != nil {
			return err
		}
	}
	(*ch).Reset(rc)
	return in.chunkFile(job, *ch)
}

func (in *ingest) readSmall(job *fileJob, rc io.Reader) error {
	bp := in.pool.Get().(*[]byte)
	defer in.pool.Put(bp)
	buf := (*bp)[:0]
	// The file may have grown since the scan: read up to the chunker's
	// minimum, then fall back to reading the rest as chunks would.
	n, err := io.ReadFull(rc, buf[:in.r.cfg.Chunker.Min])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return wrapPathErr(job.rec.Path, err)
	}
	buf = buf[:n]
	id, err := in.w.Add(blob.Data, buf)
	if err != nil {
		return fatalError{err}
	}
	job.chunks = []tree.Chunk{{ID: id, Size: uint32(n)}}
	job.size = int64(n)
	in.o.Progress.Bytes.Add(uint64(n))
	if n == in.r.cfg.Chunker.Min {
		return in.readRest(job, rc)
	}
	return nil
}

// readRest handles a file that grew past the small-file size after the scan.
func (in *ingest) readRest(job *fileJob, rc io.Reader) error {
	ch, err := in.newChunker()
	if err != nil {
		return err
	}
	ch.Reset(rc)
	first := job.chunks
	if err := in.chunkFile(job, ch); err != nil {
		return err
	}
	job.chunks = append(first, job.chunks...)
	job.size += int64(first[0].Size)
	return nil
}

func (in *ingest) newChunker() (*cdc.Chunker, error) {
	p := in.r.cfg.Chunker
	if p.Algorithm != cdc.Algorithm {
		return nil, fmt.Errorf("chunker %q is not supported", p.Algorithm)
	}
	return cdc.New(cdc.Params{Min: p.Min, Avg: p.Avg, Max: p.Max}, in.r.key.ChunkerKey())
}

func (in *ingest) chunkFile(job *fileJob, ch *cdc.Chunker) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		outs  []*tree.Chunk
		size  int64
		hint  streamHint
	)
	defer wg.Wait()
	for {
		data, err := ch.Next()
		if len(data) > 0 {
			out := &tree.Chunk{}
			outs = append(outs, out)
			size += int64(len(data))
			in.o.Progress.Bytes.Add(uint64(len(data)))
			wg.Add(1)
			job := &chunkJob{data: data, release: ch.Keep(), hint: &hint, out: out, wg: &wg, err: &first, mu: &mu}
			select {
			case in.chunks <- job:
			case <-in.ctx.Done():
				job.release()
				wg.Done()
				return in.ctx.Err()
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return wrapPathErr(job.rec.Path, err)
		}
	}
	wg.Wait()
	if first != nil {
		return first
	}
	job.chunks = make([]tree.Chunk, len(outs))
	for i, o := range outs {
		job.chunks[i] = *o
	}
	job.size = size
	return nil
}

// seal hashes, dedups, compresses, encrypts and packs chunks. It drains the
// channel even after a failure, so that no reader waits forever on a chunk.
func (in *ingest) seal() error {
	var failed error
	for j := range in.chunks {
		data := j.data
		err := in.ctx.Err()
		if err == nil {
			var id blob.ID
			id, err = in.w.AddChunk(blob.Data, data, j.hint)
			*j.out = tree.Chunk{ID: id, Size: uint32(len(data))}
		}
		j.release()
		if err != nil {
			err = fatalError{err}
			j.mu.Lock()
			if *j.err == nil {
				*j.err = err
			}
			j.mu.Unlock()
			if failed == nil {
				failed = err
			}
		}
		j.wg.Done()
	}
	return failed
}

// fatalError marks an error of the repository (storage, cache), which fails
// the ingest, as opposed to an error reading one source path, which is
// recorded and skipped.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }
