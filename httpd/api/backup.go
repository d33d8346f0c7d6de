package api

import (
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
)

// backup serves GET /backup (admins): the whole state as a backup file
// (store.Snapshot.WriteBackup: header, snapshot stream, SHA-256). The
// Pebble snapshot it streams is consistent while writes continue. Each
// write extends the connection's deadline (httpx.StreamDownload): a large
// backup may take longer than the server's write timeout.
func (a *API) backup(ctx *fasthttp.RequestCtx, _ request) {
	sn, err := a.ops.Backup()
	if err != nil {
		a.fail(ctx, err)
		return
	}
	node := a.ops.Cluster().Status().NodeID
	httpx.StreamDownload(ctx, "application/octet-stream", "linkd-"+node+".backup", func(w io.Writer) error {
		defer sn.Close()
		_, err := sn.WriteBackup(w, time.Now().UnixMilli(), node)
		return err
	}, func(error) {
		// The stream ends early and the client's checksum check refuses
		// the file.
	})
}
