package api

import (
	"bufio"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// backupWriteTimeout bounds each write of a backup stream, not the whole:
// a large backup may take longer than the server's write timeout.
const backupWriteTimeout = 15 * time.Second

// backup serves GET /backup (admins): the whole state as a backup file
// (store.Snapshot.WriteBackup: header, snapshot stream, SHA-256). The
// Pebble snapshot it streams is consistent while writes continue.
func (a *API) backup(ctx *fasthttp.RequestCtx, _ request) {
	sn, err := a.ops.Backup()
	if err != nil {
		a.fail(ctx, err)
		return
	}
	node := a.ops.Cluster().Status().NodeID
	conn := ctx.Conn()
	ctx.SetContentType("application/octet-stream")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="linkd-`+node+`.backup"`)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sn.Close()
		if _, err := sn.WriteBackup(deadlineWriter{w, conn}, time.Now().UnixMilli(), node); err == nil {
			w.Flush()
		}
		// On failure the stream ends early and the client's checksum
		// check refuses the file.
	})
}

// deadlineWriter extends the connection's write deadline before each write.
type deadlineWriter struct {
	w    *bufio.Writer
	conn net.Conn
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.conn.SetWriteDeadline(time.Now().Add(backupWriteTimeout))
	return d.w.Write(p)
}
