package s3api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigAlgorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxSkew          = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour
)

var (
	errSigMismatch = errorf(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	errUnknownKey = errorf(http.StatusForbidden, "InvalidAccessKeyId",
		"The AWS Access Key Id you provided does not exist in our records.")
	errSkewed = errorf(http.StatusForbidden, "RequestTimeTooSkewed",
		"The difference between the request time and the current time is too large.")
	errExpired = errorf(http.StatusForbidden, "AccessDenied", "Request has expired")
	errSigV2   = errorf(http.StatusBadRequest, "InvalidRequest",
		"Signature Version 2 is not supported; please use AWS4-HMAC-SHA256.")
)

func malformedHeader(msg string) *s3Error {
	return errorf(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+msg)
}

func malformedQuery(msg string) *s3Error {
	return errorf(http.StatusBadRequest, "AuthorizationQueryParametersError", msg)
}

// sigV4 is what a request says about its signature, from the
// Authorization header or the X-Amz-* query parameters.
type sigV4 struct {
	accessKey     string
	date          string // yyyymmdd of the scope
	region        string
	signedHeaders []string
	signature     string
	amzDate       time.Time
	payloadHash   string
	presigned     bool
	expires       time.Duration
}

// authenticate checks the request's signature. It returns the access key
// id, or "" for an anonymous request when those are allowed.
func (h *handler) authenticate(r *http.Request, t target) (string, *s3Error) {
	q := r.URL.Query()
	auth := r.Header.Get("Authorization")
	presigned := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential")
	var s *sigV4
	var err *s3Error
	switch {
	case auth != "" && presigned:
		return "", errorf(http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case auth != "":
		s, err = parseAuthHeader(auth, r.Header)
	case presigned:
		s, err = parsePresigned(q)
	case q.Has("AWSAccessKeyId") || q.Has("Signature"):
		return "", errSigV2
	default:
		if h.opt.Anonymous {
			return "", nil
		}
		return "", errAccessDenied
	}
	if err != nil {
		return "", err
	}
	if err := h.checkTime(s); err != nil {
		return "", err
	}
	if h.opt.Region != "" && s.region != h.opt.Region {
		return "", malformedHeader("the region '" + s.region + "' is wrong; expecting '" + h.opt.Region + "'")
	}
	secret, ok := h.opt.Credentials[s.accessKey]
	if !ok {
		return "", errUnknownKey
	}
	want := signature(secret, s, stringToSign(s, canonicalRequest(r, t, s)))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(s.signature))) {
		return "", errSigMismatch
	}
	if err := checkPayload(r, s); err != nil {
		return "", err
	}
	return s.accessKey, nil
}

func (h *handler) checkTime(s *sigV4) *s3Error {
	now := h.now()
	if s.presigned {
		if s.amzDate.Sub(now) > maxSkew {
			return errorf(http.StatusForbidden, "AccessDenied", "Request is not valid yet")
		}
		if now.After(s.amzDate.Add(s.expires)) {
			return errExpired
		}
		return nil
	}
	if d := now.Sub(s.amzDate); d > maxSkew || d < -maxSkew {
		return errSkewed
	}
	return nil
}

// checkPayload verifies a declared body hash. Reads never use a body; a
// GET that sends one with a hash gets it checked, up to 1 MiB.
func checkPayload(r *http.Request, s *sigV4) *s3Error {
	p := s.payloadHash
	switch {
	case p == unsignedPayload || strings.HasPrefix(p, "STREAMING-"):
		return nil
	case len(p) != 64 || strings.Trim(strings.ToLower(p), "0123456789abcdef") != "":
		return errorf(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 in hex")
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return nil // refused anyway; the body is never read
	case strings.EqualFold(p, emptySHA256) && r.ContentLength == 0:
		return nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.LimitReader(r.Body, 1<<20)); err != nil {
		return errorf(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if !strings.EqualFold(hex.EncodeToString(sum.Sum(nil)), p) {
		return errorf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return nil
}

// parseAuthHeader reads "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/s3/
// aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthHeader(auth string, hdr http.Header) (*sigV4, *s3Error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	switch {
	case alg == "AWS":
		return nil, errSigV2
	case alg != sigAlgorithm:
		return nil, malformedHeader("unsupported algorithm " + strconv.Quote(alg))
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, malformedHeader("a field is not KEY=VALUE")
		}
		fields[k] = v
	}
	s := &sigV4{signature: fields["Signature"], payloadHash: hdr.Get("X-Amz-Content-Sha256")}
	if err := s.parseCredential(fields["Credential"]); err != nil {
		return nil, malformedHeader(err.Message)
	}
	if err := s.parseSignedHeaders(fields["SignedHeaders"]); err != nil {
		return nil, malformedHeader(err.Message)
	}
	if s.signature == "" {
		return nil, malformedHeader("no Signature")
	}
	if s.payloadHash == "" {
		return nil, errorf(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	var err error
	if d := hdr.Get("X-Amz-Date"); d != "" {
		s.amzDate, err = time.Parse(amzDateFormat, d)
	} else if d := hdr.Get("Date"); d != "" {
		s.amzDate, err = http.ParseTime(d)
	} else {
		return nil, errorf(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
	}
	if err != nil {
		return nil, errorf(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
	}
	if s.amzDate.UTC().Format("20060102") != s.date {
		return nil, malformedHeader("the credential date does not match the request date")
	}
	return s, nil
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func parsePresigned(q url.Values) (*sigV4, *s3Error) {
	if q.Get("X-Amz-Algorithm") != sigAlgorithm {
		return nil, malformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	s := &sigV4{presigned: true, signature: q.Get("X-Amz-Signature"), payloadHash: unsignedPayload}
	if v := q.Get("X-Amz-Content-Sha256"); v != "" {
		s.payloadHash = v
	}
	if err := s.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, malformedQuery(err.Message)
	}
	if err := s.parseSignedHeaders(q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, malformedQuery(err.Message)
	}
	if s.signature == "" {
		return nil, malformedQuery("X-Amz-Signature is missing")
	}
	var err error
	if s.amzDate, err = time.Parse(amzDateFormat, q.Get("X-Amz-Date")); err != nil {
		return nil, malformedQuery("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	if s.amzDate.Format("20060102") != s.date {
		return nil, malformedQuery("the credential date does not match X-Amz-Date")
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 1 {
		return nil, malformedQuery("X-Amz-Expires should be a number of seconds, at least 1")
	}
	if time.Duration(secs)*time.Second > maxPresignExpiry {
		return nil, malformedQuery("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	s.expires = time.Duration(secs) * time.Second
	return s, nil
}

// parseCredential reads AK/yyyymmdd/region/s3/aws4_request. An access key
// id cannot contain "/", so the last four fields are the scope.
func (s *sigV4) parseCredential(c string) *s3Error {
	parts := strings.Split(c, "/")
	n := len(parts)
	if n < 5 {
		return errorf(0, "", "the Credential is not ACCESSKEY/DATE/REGION/s3/aws4_request")
	}
	s.accessKey = strings.Join(parts[:n-4], "/")
	s.date, s.region = parts[n-4], parts[n-3]
	if _, err := time.Parse("20060102", s.date); err != nil {
		return errorf(0, "", "the Credential date is not yyyymmdd")
	}
	if parts[n-2] != "s3" || parts[n-1] != "aws4_request" || s.accessKey == "" {
		return errorf(0, "", "the Credential scope is not DATE/REGION/s3/aws4_request")
	}
	return nil
}

// parseSignedHeaders reads "host;x-amz-date"; host must be signed.
func (s *sigV4) parseSignedHeaders(v string) *s3Error {
	if v == "" {
		return errorf(0, "", "SignedHeaders is missing")
	}
	s.signedHeaders = strings.Split(v, ";")
	host := false
	for _, h := range s.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return errorf(0, "", "SignedHeaders must be lower case names separated by ';'")
		}
		host = host || h == "host"
	}
	if !host {
		return errorf(0, "", "SignedHeaders must include host")
	}
	return nil
}

// canonicalRequest builds the SigV4 canonical request. The URI is the path
// as S3 signs it: each byte outside the unreserved set percent-encoded
// once, "/" kept.
func canonicalRequest(r *http.Request, t target, s *sigV4) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path, err := url.PathUnescape(t.rawPath)
	if err != nil {
		path = t.rawPath
	}
	b.WriteString(awsEscape(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, s.presigned))
	b.WriteByte('\n')
	for _, name := range s.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(s.payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value: values joined by ",",
// each trimmed with inner runs of spaces collapsed.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQuery sorts the query by encoded name then value; a presigned
// request's own signature is left out.
func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, kerr := url.QueryUnescape(k)
		v, verr := url.QueryUnescape(v)
		if kerr != nil || verr != nil {
			continue // url.Query drops it too: it cannot change what is served
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{awsEscape(k, true), awsEscape(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// awsEscape percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and "/"
// unless slash is set), upper-case hex, as SigV4 requires.
func awsEscape(s string, slash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !slash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

func stringToSign(s *sigV4, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigAlgorithm + "\n" + s.amzDate.UTC().Format(amzDateFormat) + "\n" +
		s.date + "/" + s.region + "/s3/aws4_request\n" + hex.EncodeToString(sum[:])
}

func signature(secret string, s *sigV4, toSign string) string {
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), s.date)
	k = mac(k, s.region)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, toSign))
}
