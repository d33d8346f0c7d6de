package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

func (a *API) listWebhooks(ctx *fasthttp.RequestCtx, rq request) {
	ws, err := a.ops.Webhooks(rq.p)
	a.answer(ctx, fasthttp.StatusOK, items[ops.Webhook]{ws}, err)
}

func (a *API) createWebhook(ctx *fasthttp.RequestCtx, rq request) {
	var in ops.WebhookInput
	if !readJSON(ctx, &in) {
		return
	}
	w, err := a.ops.CreateWebhook(rq.p, in)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/webhooks/"+w.ID)
	}
	a.answer(ctx, fasthttp.StatusCreated, w, err)
}

func (a *API) getWebhook(ctx *fasthttp.RequestCtx, rq request) {
	w, err := a.ops.Webhook(rq.p, rq.ID)
	a.answer(ctx, fasthttp.StatusOK, w, err)
}

func (a *API) patchWebhook(ctx *fasthttp.RequestCtx, rq request) {
	var in ops.WebhookInput
	if !readJSON(ctx, &in) {
		return
	}
	w, err := a.ops.UpdateWebhook(rq.p, rq.ID, in)
	a.answer(ctx, fasthttp.StatusOK, w, err)
}

func (a *API) deleteWebhook(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteWebhook(rq.p, rq.ID))
}

// deliveryList is an endpoint's pending deliveries and its log.
type deliveryList struct {
	Pending []ops.Delivery `json:"pending"`
	Log     []ops.Delivery `json:"log"`
}

func (a *API) webhookDeliveries(ctx *fasthttp.RequestCtx, rq request) {
	pending, done, err := a.ops.Deliveries(rq.p, rq.ID)
	a.answer(ctx, fasthttp.StatusOK, deliveryList{Pending: pending, Log: done}, err)
}

func (a *API) resendDelivery(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusAccepted, nil, a.ops.ResendDelivery(rq.p, rq.ID, rq.Sub))
}
