package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// s3Error is an error answered as S3 XML with its HTTP status.
type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) *s3Error {
	return &s3Error{Status: status, Code: code, Message: msg}
}

var (
	errAccessDenied   = errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	errReadOnly       = errorf(http.StatusForbidden, "AccessDenied", "Access Denied: this gateway serves snapshots read-only")
	errNoSuchBucket   = errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	errNoSuchKey      = errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	errInvalidURI     = errorf(http.StatusBadRequest, "InvalidURI", "Couldn't parse the specified URI.")
	errNotImplemented = errorf(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented")
	errInternal       = errorf(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	errPrecondition   = errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	errMethod         = errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	errBadToken       = errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
)

// fsError maps an error of the read interface to an S3 error, once, here.
func fsError(err error) *s3Error {
	var se *s3Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, fs.ErrNotExist):
		return errNoSuchKey
	case errors.Is(err, fs.ErrPermission):
		return errAccessDenied
	case errors.Is(err, fs.ErrInvalid):
		return errInvalidURI
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case errors.Is(err, vfs.ErrCorrupt):
		return errorf(http.StatusInternalServerError, "InternalError", "The stored data failed an integrity check.")
	}
	return errInternal
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

// writeError answers e as S3 XML; a HEAD gets the status alone, as S3
// does.
func writeError(w http.ResponseWriter, r *http.Request, e *s3Error, resource string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Accept-Ranges")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	body := errorBody{Code: e.Code, Message: e.Message, Resource: resource,
		RequestID: h.Get("x-amz-request-id"), HostID: h.Get("x-amz-id-2")}
	writeXMLStatus(w, e.Status, body)
}

// writeXML answers 200 with v as XML.
func writeXML(w http.ResponseWriter, v any) { writeXMLStatus(w, http.StatusOK, v) }

func writeXMLStatus(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte("<Error><Code>InternalError</Code></Error>")
	}
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
