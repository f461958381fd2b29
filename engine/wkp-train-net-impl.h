/* wkp-train-net-impl.h: body of wkp-train-net.c, included once per precision.
 * Expects R (float/double), SFX (f32/f64), GEMM (cblas_sgemm/dgemm),
 * EXPR/TANHR (expf/exp, tanhf/tanh), WS / WS_STRUCT (the workspace type and
 * its struct tag). Not a public header. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_ (a, b)
#define FN(name) CAT (name, SFX)

struct WS_STRUCT
{
  WkpNetShape shape;
  gint64 max_tb;
  int T, B;
  R *gates[WKP_LSTM_MAX_LAYERS][2];   /* activated i, f, g, o [TB, 4H] */
  R *c[WKP_LSTM_MAX_LAYERS][2];       /* cell state [TB, H] */
  R *tc[WKP_LSTM_MAX_LAYERS][2];      /* tanh (c) [TB, H] */
  R *out[WKP_LSTM_MAX_LAYERS];        /* layer output [TB, H*dirs] */
  R *dgates;                          /* [TB, 4H] */
  R *dout_a, *dout_b;                 /* [TB, max (in, H*dirs)] */
  R *dh_next, *dc_next;               /* [B, H] (B <= TB) */
};

static inline R
FN (sigm) (R x)
{
  return (R) 1 / ((R) 1 + EXPR (-x));
}

WS *
FN (wkp_net_ws_new) (const WkpNetShape *shape, gint64 max_tb)
{
  WS *ws = g_new0 (WS, 1);
  int H = shape->hidden_size, dirs = shape->bidirectional ? 2 : 1;
  gsize Hd = (gsize) H * dirs;
  gsize wide = MAX ((gsize) shape->input_size, Hd);
  ws->shape = *shape;
  ws->max_tb = max_tb;
  for (int l = 0; l < shape->num_layers; l++)
    {
      for (int d = 0; d < dirs; d++)
        {
          ws->gates[l][d] = g_new (R, (gsize) max_tb * 4 * H);
          ws->c[l][d] = g_new (R, (gsize) max_tb * H);
          ws->tc[l][d] = g_new (R, (gsize) max_tb * H);
        }
      ws->out[l] = g_new (R, (gsize) max_tb * Hd);
    }
  ws->dgates = g_new (R, (gsize) max_tb * 4 * H);
  ws->dout_a = g_new (R, (gsize) max_tb * wide);
  ws->dout_b = g_new (R, (gsize) max_tb * wide);
  ws->dh_next = g_new (R, (gsize) max_tb * H);
  ws->dc_next = g_new (R, (gsize) max_tb * H);
  return ws;
}

void
FN (wkp_net_ws_free) (WS *ws)
{
  if (ws == NULL)
    return;
  for (int l = 0; l < WKP_LSTM_MAX_LAYERS; l++)
    {
      for (int d = 0; d < 2; d++)
        {
          g_free (ws->gates[l][d]);
          g_free (ws->c[l][d]);
          g_free (ws->tc[l][d]);
        }
      g_free (ws->out[l]);
    }
  g_free (ws->dgates);
  g_free (ws->dout_a);
  g_free (ws->dout_b);
  g_free (ws->dh_next);
  g_free (ws->dc_next);
  g_free (ws);
}

void
FN (wkp_net_forward) (WS *ws, const R *params, const R *x, int T, int B, R *y)
{
  const WkpNetShape *s = &ws->shape;
  const int H = s->hidden_size, dirs = s->bidirectional ? 2 : 1, Hd = H * dirs, G4 = 4 * H;
  const gint64 TB = (gint64) T * B;
  g_return_if_fail (TB <= ws->max_tb && T > 0 && B > 0);
  ws->T = T;
  ws->B = B;

  gsize off = 0;
  for (int l = 0; l < s->num_layers; l++)
    {
      const int in = l == 0 ? s->input_size : Hd;
      const R *X = l == 0 ? x : ws->out[l - 1];
      R *O = ws->out[l];
      for (int d = 0; d < dirs; d++)
        {
          const R *w_ih = params + off;
          const R *w_hh = w_ih + (gsize) G4 * in;
          const R *b_ih = w_hh + (gsize) G4 * H;
          const R *b_hh = b_ih + G4;
          off += (gsize) G4 * in + (gsize) G4 * H + 2 * (gsize) G4;
          R *G = ws->gates[l][d], *C = ws->c[l][d], *TC = ws->tc[l][d];

          for (gint64 r = 0; r < TB; r++)
            for (int k = 0; k < G4; k++)
              G[r * G4 + k] = b_ih[k] + b_hh[k];
          GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, (int) TB, G4, in, 1, X, in, w_ih, in, 1, G, G4);

          for (int step = 0; step < T; step++)
            {
              const int t = d == 0 ? step : T - 1 - step;
              const int tp = d == 0 ? t - 1 : t + 1;
              R *Gt = G + (gsize) t * B * G4;
              if (step > 0)
                GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, B, G4, H, 1, O + (gsize) tp * B * Hd + d * H, Hd,
                      w_hh, H, 1, Gt, G4);
              for (int b = 0; b < B; b++)
                {
                  R *g = Gt + (gsize) b * G4;
                  R *cc = C + ((gsize) t * B + b) * H;
                  R *tcc = TC + ((gsize) t * B + b) * H;
                  const R *cp = step > 0 ? C + ((gsize) tp * B + b) * H : NULL;
                  R *h = O + ((gsize) t * B + b) * Hd + d * H;
                  for (int j = 0; j < H; j++)
                    {
                      R ig = FN (sigm) (g[j]);
                      R fg = FN (sigm) (g[H + j]);
                      R gg = TANHR (g[2 * H + j]);
                      R og = FN (sigm) (g[3 * H + j]);
                      R cv = ig * gg + (cp ? fg * cp[j] : (R) 0);
                      R tv = TANHR (cv);
                      g[j] = ig;
                      g[H + j] = fg;
                      g[2 * H + j] = gg;
                      g[3 * H + j] = og;
                      cc[j] = cv;
                      tcc[j] = tv;
                      h[j] = og * tv;
                    }
                }
            }
        }
    }
  /* head */
  {
    const R *hw = params + off;
    const R *hb = hw + (gsize) s->output_size * Hd;
    const int K = s->output_size;
    for (gint64 r = 0; r < TB; r++)
      for (int k = 0; k < K; k++)
        y[r * K + k] = hb[k];
    GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, (int) TB, K, Hd, 1, ws->out[s->num_layers - 1], Hd, hw, Hd,
          1, y, K);
  }
}

void
FN (wkp_net_backward) (WS *ws, const R *params, const R *x, const R *dy, R *grad)
{
  const WkpNetShape *s = &ws->shape;
  const int H = s->hidden_size, dirs = s->bidirectional ? 2 : 1, Hd = H * dirs, G4 = 4 * H;
  const int T = ws->T, B = ws->B, K = s->output_size;
  const gint64 TB = (gint64) T * B;

  /* offsets of each layer's block */
  gsize layer_off[WKP_LSTM_MAX_LAYERS + 1];
  {
    gsize off = 0;
    for (int l = 0; l < s->num_layers; l++)
      {
        const int in = l == 0 ? s->input_size : Hd;
        layer_off[l] = off;
        off += dirs * ((gsize) G4 * in + (gsize) G4 * H + 2 * (gsize) G4);
      }
    layer_off[s->num_layers] = off;
  }

  /* head */
  R *dO = ws->dout_a, *dX = ws->dout_b;
  {
    const gsize off = layer_off[s->num_layers];
    const R *hw = params + off;
    R *ghw = grad + off, *ghb = ghw + (gsize) K * Hd;
    const R *Htop = ws->out[s->num_layers - 1];
    GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, K, Hd, (int) TB, 1, dy, K, Htop, Hd, 0, ghw, Hd);
    for (int k = 0; k < K; k++)
      ghb[k] = 0;
    for (gint64 r = 0; r < TB; r++)
      for (int k = 0; k < K; k++)
        ghb[k] += dy[r * K + k];
    GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) TB, Hd, K, 1, dy, K, hw, Hd, 0, dO, Hd);
  }

  for (int l = s->num_layers - 1; l >= 0; l--)
    {
      const int in = l == 0 ? s->input_size : Hd;
      const R *X = l == 0 ? x : ws->out[l - 1];
      const R *O = ws->out[l];
      gsize off = layer_off[l];
      for (int d = 0; d < dirs; d++)
        {
          const R *w_ih = params + off;
          const R *w_hh = w_ih + (gsize) G4 * in;
          R *g_wih = grad + off;
          R *g_whh = g_wih + (gsize) G4 * in;
          R *g_bih = g_whh + (gsize) G4 * H;
          R *g_bhh = g_bih + G4;
          off += (gsize) G4 * in + (gsize) G4 * H + 2 * (gsize) G4;
          const R *G = ws->gates[l][d], *C = ws->c[l][d], *TC = ws->tc[l][d];
          R *dG = ws->dgates, *dhn = ws->dh_next, *dcn = ws->dc_next;
          memset (dhn, 0, sizeof (R) * (gsize) B * H);
          memset (dcn, 0, sizeof (R) * (gsize) B * H);

          for (int step = T - 1; step >= 0; step--)
            {
              const int t = d == 0 ? step : T - 1 - step;
              const int tp = d == 0 ? t - 1 : t + 1;
              for (int b = 0; b < B; b++)
                {
                  const gsize row = (gsize) t * B + b;
                  const R *g = G + row * G4;
                  const R *tcc = TC + row * H;
                  const R *cp = step > 0 ? C + ((gsize) tp * B + b) * H : NULL;
                  const R *dout = dO + row * Hd + d * H;
                  R *dg = dG + row * G4;
                  R *dh_n = dhn + (gsize) b * H, *dc_n = dcn + (gsize) b * H;
                  for (int j = 0; j < H; j++)
                    {
                      R ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j], tv = tcc[j];
                      R dh = dout[j] + dh_n[j];
                      R dc = dh * og * ((R) 1 - tv * tv) + dc_n[j];
                      dg[j] = dc * gg * ig * ((R) 1 - ig);
                      dg[H + j] = cp ? dc * cp[j] * fg * ((R) 1 - fg) : (R) 0;
                      dg[2 * H + j] = dc * ig * ((R) 1 - gg * gg);
                      dg[3 * H + j] = dh * tv * og * ((R) 1 - og);
                      dc_n[j] = dc * fg;
                    }
                }
              if (step > 0)
                GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G4, 1, dG + (gsize) t * B * G4, G4, w_hh, H,
                      0, dhn, H);
            }

          /* weight gradients over all steps at once */
          GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, G4, in, (int) TB, 1, dG, G4, X, in, 0, g_wih, in);
          if (T > 1)
            {
              const R *dg0 = d == 0 ? dG + (gsize) B * G4 : dG;
              const R *h0 = (d == 0 ? O : O + (gsize) B * Hd) + d * H;
              GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, G4, H, (T - 1) * B, 1, dg0, G4, h0, Hd, 0, g_whh, H);
            }
          else
            memset (g_whh, 0, sizeof (R) * (gsize) G4 * H);
          for (int k = 0; k < G4; k++)
            g_bih[k] = 0;
          for (gint64 r = 0; r < TB; r++)
            for (int k = 0; k < G4; k++)
              g_bih[k] += dG[r * G4 + k];
          memcpy (g_bhh, g_bih, sizeof (R) * G4);
          if (l > 0)
            GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) TB, in, G4, 1, dG, G4, w_ih, in,
                  d == 0 ? 0 : 1, dX, in);
        }
      R *tmp = dO;
      dO = dX;
      dX = tmp;
    }
}

double
FN (wkp_net_loss) (const R *y, const R *z, const R *mask, int T, int B, int K, const R *w, double vel_weight,
                   R *dy)
{
  double n = 0.0, nv = 0.0, acc = 0.0, accv = 0.0;
  for (int t = 0; t < T; t++)
    for (int b = 0; b < B; b++)
      {
        double m = mask ? mask[t * B + b] : 1.0;
        n += m;
        if (t > 0 && vel_weight > 0.0)
          nv += m * (mask ? mask[(t - 1) * B + b] : 1.0);
      }
  if (dy)
    memset (dy, 0, sizeof (R) * (gsize) T * B * K);
  if (n <= 0.0)
    return 0.0;
  for (int t = 0; t < T; t++)
    for (int b = 0; b < B; b++)
      {
        const gsize r = (gsize) t * B + b;
        double m = mask ? mask[r] : 1.0;
        if (m == 0.0)
          continue;
        for (int k = 0; k < K; k++)
          {
            double wk = w ? w[k] : 1.0;
            double e = (double) y[r * K + k] - (double) z[r * K + k];
            acc += m * wk * e * e;
            if (dy)
              dy[r * K + k] += (R) (2.0 * m * wk * e / (n * K));
          }
        if (t > 0 && vel_weight > 0.0 && nv > 0.0)
          {
            const gsize rp = r - B;
            double mp = mask ? mask[rp] : 1.0;
            if (mp == 0.0)
              continue;
            for (int k = 0; k < K; k++)
              {
                double wk = w ? w[k] : 1.0;
                double e = ((double) y[r * K + k] - y[rp * K + k]) - ((double) z[r * K + k] - z[rp * K + k]);
                accv += m * mp * wk * e * e;
                if (dy)
                  {
                    double gv = vel_weight * 2.0 * m * mp * wk * e / (nv * K);
                    dy[r * K + k] += (R) gv;
                    dy[rp * K + k] -= (R) gv;
                  }
              }
          }
      }
  return acc / (n * K) + (nv > 0.0 ? vel_weight * accv / (nv * K) : 0.0);
}

#undef FN
#undef CAT
#undef CAT_
