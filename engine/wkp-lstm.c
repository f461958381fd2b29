/* wkp-lstm.c: stacked (bi)LSTM inference in torch.nn.LSTM layout.
 *
 * Fast path: for each layer and direction the input projections of a block
 * of time steps are one cblas_sgemm (rows = steps), seeded with b_ih + b_hh;
 * the recurrence then adds W_hh h with cblas_sgemv step by step and applies
 * the gates (PyTorch order i, f, g, o). Blocks of BLOCK_STEPS steps bound
 * the scratch memory, so hours of input need only the layer outputs.
 * Utterances of PACK_MIN_STEPS steps or more take the packed path instead:
 * W_hh is repacked into panels of 8 hidden units so that one fused kernel
 * computes W_hh h and the cell update of 8 units with no trip through
 * memory, rows are visited in alternating order from step to step (an
 * LRU cache then keeps most of a W_hh larger than itself; the kernel has an
 * AVX-512 variant chosen at run time), and with two or
 * more threads a unidirectional layer's hidden units are split between
 * threads that meet once per step (each thread's half of W_hh stays in its
 * core's L2). See "Model inference" in BENCHMARKS.md.
 * The reference path (wkp_lstm_forward_ref) is plain loops with double
 * accumulation and shares no code with the fast path.
 */
#include "wkp-lstm.h"

#include <cblas.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#define BLOCK_STEPS 512
#define PACK_MIN_STEPS 64   /* shorter inputs (streaming pushes) use sgemv: packing would cost more */
#define UB 8                /* hidden units per packed panel block */

WkpLstm *
wkp_lstm_new (int input_size, int hidden_size, int num_layers, gboolean bidirectional, int output_size)
{
  WkpLstm *lstm;
  int dirs = bidirectional ? 2 : 1;

  g_return_val_if_fail (input_size > 0 && hidden_size > 0 && output_size > 0, NULL);
  g_return_val_if_fail (num_layers >= 1 && num_layers <= WKP_LSTM_MAX_LAYERS, NULL);

  lstm = g_new0 (WkpLstm, 1);
  lstm->input_size = input_size;
  lstm->hidden_size = hidden_size;
  lstm->num_layers = num_layers;
  lstm->bidirectional = bidirectional ? TRUE : FALSE;
  lstm->output_size = output_size;
  lstm->owns_weights = TRUE;
  for (int l = 0; l < num_layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gsize in = (gsize) wkp_lstm_layer_input (lstm, l);
        lstm->w_ih[l][d] = g_new0 (float, 4 * (gsize) hidden_size * in);
        lstm->w_hh[l][d] = g_new0 (float, 4 * (gsize) hidden_size * hidden_size);
        lstm->b_ih[l][d] = g_new0 (float, 4 * (gsize) hidden_size);
        lstm->b_hh[l][d] = g_new0 (float, 4 * (gsize) hidden_size);
      }
  lstm->head_w = g_new0 (float, (gsize) output_size * hidden_size * dirs);
  lstm->head_b = g_new0 (float, (gsize) output_size);
  return lstm;
}

void
wkp_lstm_free (WkpLstm *lstm)
{
  if (lstm == NULL)
    return;
  if (lstm->owns_weights)
    {
      for (int l = 0; l < WKP_LSTM_MAX_LAYERS; l++)
        for (int d = 0; d < 2; d++)
          {
            g_free (lstm->w_ih[l][d]);
            g_free (lstm->w_hh[l][d]);
            g_free (lstm->b_ih[l][d]);
            g_free (lstm->b_hh[l][d]);
          }
      g_free (lstm->head_w);
      g_free (lstm->head_b);
    }
  g_free (lstm);
}

int
wkp_lstm_layer_input (const WkpLstm *lstm, int layer)
{
  g_return_val_if_fail (lstm != NULL, 0);
  return layer == 0 ? lstm->input_size : lstm->hidden_size * (lstm->bidirectional ? 2 : 1);
}

gsize
wkp_lstm_n_params (const WkpLstm *lstm)
{
  gsize n = 0, H;
  int dirs;

  g_return_val_if_fail (lstm != NULL, 0);
  H = (gsize) lstm->hidden_size;
  dirs = lstm->bidirectional ? 2 : 1;
  for (int l = 0; l < lstm->num_layers; l++)
    n += dirs * (4 * H * (gsize) wkp_lstm_layer_input (lstm, l) + 4 * H * H + 8 * H);
  n += (gsize) lstm->output_size * (H * dirs + 1);
  return n;
}

char *
wkp_lstm_tensor_name (const char *kind, int layer, int dir)
{
  return g_strdup_printf ("lstm.%s_l%d%s", kind, layer, dir ? "_reverse" : "");
}

static gboolean
check_array (const float *a, gsize n, const char *name, GError **error)
{
  if (a == NULL)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "LSTM tensor %s is missing", name);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    if (!isfinite (a[i]))
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                     "LSTM tensor %s has a non-finite value (%s) at element %" G_GSIZE_FORMAT,
                     name, isnan (a[i]) ? "NaN" : "Inf", i);
        return FALSE;
      }
  return TRUE;
}

gboolean
wkp_lstm_check_finite (const WkpLstm *lstm, GError **error)
{
  gsize H = (gsize) lstm->hidden_size;
  int dirs = lstm->bidirectional ? 2 : 1;

  for (int l = 0; l < lstm->num_layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gsize in = (gsize) wkp_lstm_layer_input (lstm, l);
        struct { const char *kind; const float *a; gsize n; } t[] = {
          { "weight_ih", lstm->w_ih[l][d], 4 * H * in },
          { "weight_hh", lstm->w_hh[l][d], 4 * H * H },
          { "bias_ih", lstm->b_ih[l][d], 4 * H },
          { "bias_hh", lstm->b_hh[l][d], 4 * H },
        };
        for (guint k = 0; k < G_N_ELEMENTS (t); k++)
          {
            g_autofree char *name = wkp_lstm_tensor_name (t[k].kind, l, d);
            if (!check_array (t[k].a, t[k].n, name, error))
              return FALSE;
          }
      }
  if (!check_array (lstm->head_w, (gsize) lstm->output_size * H * dirs, "head.weight", error) ||
      !check_array (lstm->head_b, (gsize) lstm->output_size, "head.bias", error))
    return FALSE;
  return TRUE;
}

static gboolean
check_lstm (const WkpLstm *lstm, GError **error)
{
  if (lstm == NULL || lstm->input_size <= 0 || lstm->hidden_size <= 0 || lstm->output_size <= 0 ||
      lstm->num_layers < 1 || lstm->num_layers > WKP_LSTM_MAX_LAYERS)
    {
      g_set_error_literal (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "invalid LSTM dimensions");
      return FALSE;
    }
  return TRUE;
}

/* --- fast path -------------------------------------------------------------- */

/* Gates: sigmoid and tanh from one exp, 8 lanes at a time with GCC vector
 * extensions (Cephes expf: range reduction n = round(x log2 e), degree-6
 * polynomial, 2^n from the exponent bits; ~2 ulp). Compiled twice
 * (target_clones): AVX2+FMA where the CPU has it, baseline SSE2 elsewhere.
 * tanh(x) = 2 sigmoid(2x) - 1 (absolute error ~1e-7 near 0). */
#pragma GCC diagnostic ignored "-Wpsabi"   /* static helpers only: no ABI crosses a call */
typedef float v8f __attribute__ ((vector_size (32)));
typedef gint32 v8i __attribute__ ((vector_size (32)));

#define V8(x) ((v8f) { x, x, x, x, x, x, x, x })

static inline __attribute__ ((always_inline)) v8f
v8_select (v8i mask, v8f a, v8f b)   /* mask ? a : b */
{
  return (v8f) (((v8i) a & mask) | ((v8i) b & ~mask));
}

static inline __attribute__ ((always_inline)) v8f
v8_exp (v8f x)
{
  v8f fx, tf, r, p;
  v8i t;

  x = v8_select (x > V8 (88.3762626647949f), V8 (88.3762626647949f), x);
  x = v8_select (x < V8 (-87.3365447505531f), V8 (-87.3365447505531f), x);
  fx = x * V8 (1.44269504088896341f) + V8 (0.5f);
  t = __builtin_convertvector (fx, v8i);
  tf = __builtin_convertvector (t, v8f);
  t = t + (tf > fx);                      /* floor: -1 where truncation rounded up */
  tf = __builtin_convertvector (t, v8f);
  r = x - tf * V8 (0.693359375f) - tf * V8 (-2.12194440e-4f);
  p = V8 (1.9875691500e-4f);
  p = p * r + V8 (1.3981999507e-3f);
  p = p * r + V8 (8.3334519073e-3f);
  p = p * r + V8 (4.1665795894e-2f);
  p = p * r + V8 (1.6666665459e-1f);
  p = p * r + V8 (5.0000001201e-1f);
  p = p * r * r + r + V8 (1.0f);
  return p * (v8f) ((t + 127) << 23);
}

static inline __attribute__ ((always_inline)) v8f
v8_sigmoid (v8f x)
{
  return V8 (1.0f) / (V8 (1.0f) + v8_exp (-x));
}

static inline __attribute__ ((always_inline)) v8f
v8_tanh (v8f x)
{
  return V8 (2.0f) / (V8 (1.0f) + v8_exp (V8 (-2.0f) * x)) - V8 (1.0f);
}

static inline __attribute__ ((always_inline)) v8f
v8_load (const float *p)
{
  v8f v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline __attribute__ ((always_inline)) void
v8_store (float *p, v8f v)
{
  memcpy (p, &v, sizeof v);
}

static void cell_block (const float *gi, const float *gf, const float *gg, const float *go, float *h, float *c);

/* One LSTM cell update of 8 units from pre-activations. */
__attribute__ ((target_clones ("arch=x86-64-v3", "default")))
static void
cell_block (const float *gi, const float *gf, const float *gg, const float *go, float *h, float *c)
{
  v8f i = v8_sigmoid (v8_load (gi)), f = v8_sigmoid (v8_load (gf));
  v8f g = v8_tanh (v8_load (gg)), o = v8_sigmoid (v8_load (go));
  v8f cn = f * v8_load (c) + i * g;
  v8_store (c, cn);
  v8_store (h, o * v8_tanh (cn));
}

/* One LSTM cell update from pre-activations @g [4H]. */
static inline void
cell_update (const float *g, float *h, float *c, int H)
{
  int j = 0;
  for (; j + 8 <= H; j += 8)
    cell_block (g + j, g + H + j, g + 2 * H + j, g + 3 * H + j, h + j, c + j);
  if (j < H)
    {
      float t[6][8] = { { 0 } };
      int n = H - j;
      for (int k = 0; k < 4; k++)
        memcpy (t[k], g + k * H + j, sizeof (float) * n);
      memcpy (t[5], c + j, sizeof (float) * n);
      cell_block (t[0], t[1], t[2], t[3], t[4], t[5]);
      memcpy (h + j, t[4], sizeof (float) * n);
      memcpy (c + j, t[5], sizeof (float) * n);
    }
}

typedef struct {
  float *G;        /* [BLOCK_STEPS, 4H] */
  float *bias;     /* [4H] */
} Scratch;

/* Runs one direction of one layer over @T steps of @in [T, in_dim] from the
 * state (@h, @c), writing h_t to out[t*out_stride + out_off ...]. With
 * @ctx >= 0 (layer 0 only), @in is instead an edge-padded feature matrix of
 * rows of in_dim / (2 ctx + 1) columns, and the input of step t is the
 * concatenation of its rows t .. t + 2 ctx: the projection is then a sum of
 * 2 ctx + 1 sgemms over shifted rows, never materialising the stacked input. */
static void
run_direction (const WkpLstm *lstm, int l, int d, const float *in, int in_dim, int ctx, gint64 T,
               float *out, int out_stride, int out_off, float *h, float *c, Scratch *s)
{
  int H = lstm->hidden_size, G4 = 4 * H;
  const float *w_ih = lstm->w_ih[l][d], *w_hh = lstm->w_hh[l][d];

  for (int j = 0; j < G4; j++)
    s->bias[j] = lstm->b_ih[l][d][j] + lstm->b_hh[l][d][j];

  for (gint64 done = 0; done < T; done += BLOCK_STEPS)
    {
      int n = (int) MIN ((gint64) BLOCK_STEPS, T - done);
      gint64 t0 = d == 0 ? done : T - done - n;

      for (int r = 0; r < n; r++)
        memcpy (s->G + (gsize) r * G4, s->bias, sizeof (float) * G4);
      if (ctx >= 0)
        {
          int dim = in_dim / (2 * ctx + 1);
          for (int kk = 0; kk <= 2 * ctx; kk++)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, G4, dim, 1.0f,
                         in + (t0 + kk) * dim, dim, w_ih + kk * dim, in_dim, 1.0f, s->G, G4);
        }
      else if (n == 1)   /* streaming one step at a time: a matrix-vector product */
        cblas_sgemv (CblasRowMajor, CblasNoTrans, G4, in_dim, 1.0f, w_ih, in_dim, in + t0 * in_dim, 1, 1.0f,
                     s->G, 1);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, G4, in_dim, 1.0f,
                     in + t0 * in_dim, in_dim, w_ih, in_dim, 1.0f, s->G, G4);
      for (int k = 0; k < n; k++)
        {
          int r = d == 0 ? k : n - 1 - k;
          float *g = s->G + (gsize) r * G4;
          cblas_sgemv (CblasRowMajor, CblasNoTrans, G4, H, 1.0f, w_hh, H, h, 1, 1.0f, g, 1);
          cell_update (g, h, c, H);
          memcpy (out + (t0 + r) * out_stride + out_off, h, sizeof (float) * H);
        }
    }
}

/* --- packed path ---------------------------------------------------------------- */

/* Unit-block order: the packed path numbers the 4H gate rows (PyTorch order
 * i, f, g, o, each H long) as (block b of UB units, gate k, unit r) ->
 * (4 b + k) UB + r, padded with zero rows to a whole number of blocks. The
 * input-projection matrix G, W_ih and the biases use this order, so the
 * rows a thread owns (its blocks [b0, b1)) are one contiguous range and one
 * sgemm per thread fills them. */
static inline int
gate_row (int H, int b, int k, int r)
{
  int u = b * UB + r;
  return u < H ? k * H + u : -1;
}

/* Rows of W_ih [4H, in_dim] (and the summed biases) for blocks [b0, b1) in
 * unit-block order. */
static void
pack_w_ih (const WkpLstm *lstm, int l, int d, int in_dim, int b0, int b1, float *dst, float *bias)
{
  int H = lstm->hidden_size;
  for (int b = b0; b < b1; b++)
    for (int k = 0; k < 4; k++)
      for (int r = 0; r < UB; r++)
        {
          int row = gate_row (H, b, k, r), i = (4 * b + k) * UB + r;
          float *out = dst + (gsize) i * in_dim;
          if (row < 0)
            {
              memset (out, 0, sizeof (float) * in_dim);
              bias[i] = 0.0f;
            }
          else
            {
              memcpy (out, lstm->w_ih[l][d] + (gsize) row * in_dim, sizeof (float) * in_dim);
              bias[i] = lstm->b_ih[l][d][row] + lstm->b_hh[l][d][row];
            }
        }
}

/* W_hh [4H, H] for blocks [b0, b1): block b is [H][4][UB] (column q of
 * its four gates' rows side by side), P[((b H + q) 4 + k) UB + r] =
 * W_hh[row (b, k, r)][q], zero for padding: one sequential stream per block. */
static void
pack_w_hh (const float *w_hh, int H, int b0, int b1, float *dst)
{
  for (int b = b0; b < b1; b++)
    for (int k = 0; k < 4; k++)
      for (int r = 0; r < UB; r++)
        {
          int row = gate_row (H, b, k, r);
          float *o = dst + (gsize) b * H * 4 * UB + k * UB + r;
          for (int q = 0; q < H; q++)
            o[(gsize) q * 4 * UB] = row < 0 ? 0.0f : w_hh[(gsize) row * H + q];
        }
}

static void step_block (const float *P, const float *h, int H, const float *gi, const float *gf, const float *gg,
                        const float *go, float *c, float *h_out);

/* One step of 8 units: pre-activations g* (input projection + biases) plus
 * the packed panels P times h (two accumulators per gate: 8 independent FMA
 * chains), then the cell update. @h == NULL means h = 0 (first step). */
__attribute__ ((target_clones ("arch=x86-64-v3", "default")))
static void
step_block (const float *P, const float *h, int H, const float *gi, const float *gf, const float *gg,
            const float *go, float *c, float *h_out)
{
  const float *pi = P, *pf = P + UB, *pg = P + 2 * UB, *po = P + 3 * UB;
  v8f ai = v8_load (gi), af = v8_load (gf), ag = v8_load (gg), ao = v8_load (go);
  v8f bi = V8 (0.0f), bf = V8 (0.0f), bg = V8 (0.0f), bo = V8 (0.0f);
  int q = 0;

  if (h != NULL)
    {
      for (; q + 2 <= H; q += 2)
        {
          v8f h0 = V8 (h[q]), h1 = V8 (h[q + 1]);
          gsize o = (gsize) q * 4 * UB;
          ai += v8_load (pi + o) * h0;
          af += v8_load (pf + o) * h0;
          ag += v8_load (pg + o) * h0;
          ao += v8_load (po + o) * h0;
          bi += v8_load (pi + o + 4 * UB) * h1;
          bf += v8_load (pf + o + 4 * UB) * h1;
          bg += v8_load (pg + o + 4 * UB) * h1;
          bo += v8_load (po + o + 4 * UB) * h1;
        }
      if (q < H)
        {
          v8f h0 = V8 (h[q]);
          gsize o = (gsize) q * 4 * UB;
          ai += v8_load (pi + o) * h0;
          af += v8_load (pf + o) * h0;
          ag += v8_load (pg + o) * h0;
          ao += v8_load (po + o) * h0;
        }
    }
  {
    v8f i = v8_sigmoid (ai + bi), f = v8_sigmoid (af + bf), g = v8_tanh (ag + bg), o = v8_sigmoid (ao + bo);
    v8f cn = f * v8_load (c) + i * g;
    v8_store (c, cn);
    v8_store (h_out, o * v8_tanh (cn));
  }
}

/* The same step with 512-bit vectors (AVX-512F, where the CPU has it): for
 * each input q the panel's 32 floats are two zmm loads (gates i|f and g|o)
 * instead of four ymm loads, halving the FMA count of the matrix-vector
 * product; four q at a time give eight independent FMA chains. Same packed
 * layout, so the dispatch is a function pointer chosen once per call. */
typedef float v16f __attribute__ ((vector_size (64)));

#define V16(x) ((v16f) { x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x })

static inline __attribute__ ((always_inline)) v16f
v16_load (const float *p)
{
  v16f v;
  memcpy (&v, p, sizeof v);
  return v;
}

typedef void (*StepBlockFn) (const float *P, const float *h, int H, const float *gi, const float *gf,
                             const float *gg, const float *go, float *c, float *h_out);

__attribute__ ((target ("avx512f,avx512vl,avx2,fma")))
static void
step_block_avx512 (const float *P, const float *h, int H, const float *gi, const float *gf, const float *gg,
                   const float *go, float *c, float *h_out)
{
  /* gi..go must be consecutive UB-float runs in unit-block order, like the
   * panels (the packed path's G rows): gf and go are read through gi and gg */
  g_assert (gf == gi + UB && go == gg + UB);
  v16f a0 = v16_load (gi), b0 = v16_load (gg), a1 = V16 (0.0f), b1 = V16 (0.0f);
  v16f a2 = V16 (0.0f), b2 = V16 (0.0f), a3 = V16 (0.0f), b3 = V16 (0.0f);
  int q = 0;

  if (h != NULL)
    {
      for (; q + 4 <= H; q += 4)
        {
          const float *p = P + (gsize) q * 4 * UB;
          v16f h0 = V16 (h[q]), h1 = V16 (h[q + 1]), h2 = V16 (h[q + 2]), h3 = V16 (h[q + 3]);
          a0 += v16_load (p) * h0;
          b0 += v16_load (p + 16) * h0;
          a1 += v16_load (p + 32) * h1;
          b1 += v16_load (p + 48) * h1;
          a2 += v16_load (p + 64) * h2;
          b2 += v16_load (p + 80) * h2;
          a3 += v16_load (p + 96) * h3;
          b3 += v16_load (p + 112) * h3;
        }
      for (; q < H; q++)
        {
          const float *p = P + (gsize) q * 4 * UB;
          v16f h0 = V16 (h[q]);
          a0 += v16_load (p) * h0;
          b0 += v16_load (p + 16) * h0;
        }
    }
  {
    float s[32];
    v16f a = (a0 + a1) + (a2 + a3), b = (b0 + b1) + (b2 + b3);
    memcpy (s, &a, sizeof a);
    memcpy (s + 16, &b, sizeof b);
    v8f i = v8_sigmoid (v8_load (s)), f = v8_sigmoid (v8_load (s + 8));
    v8f g = v8_tanh (v8_load (s + 16)), o = v8_sigmoid (v8_load (s + 24));
    v8f cn = f * v8_load (c) + i * g;
    v8_store (c, cn);
    v8_store (h_out, o * v8_tanh (cn));
  }
}

/* The kernel for this CPU: AVX-512 where available (WKP_LSTM_NO_AVX512 in
 * the environment turns it off, for benchmarks and tests of the AVX2 path). */
static StepBlockFn
step_block_fn (void)
{
  static gsize chosen;   /* 1 + index into kernels */
  static const StepBlockFn kernels[] = { step_block, step_block_avx512 };
  if (g_once_init_enter (&chosen))
    {
      gsize k = 0;
      __builtin_cpu_init ();
      if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512vl") &&
          g_getenv ("WKP_LSTM_NO_AVX512") == NULL)
        k = 1;
      g_once_init_leave (&chosen, k + 1);
    }
  return kernels[chosen - 1];
}

const char *
wkp_lstm_kernel_name (void)
{
  if (step_block_fn () == step_block_avx512)
    return "avx512";
  /* the same test as the target_clones dispatch of step_block */
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("x86-64-v3") ? "avx2" : "baseline";
}

/* Two or more threads meeting once per step: a sense-counting barrier that
 * spins briefly (a step takes microseconds) and then yields the core. */
typedef struct {
  atomic_int count;
  atomic_int phase;
  int        n;
} Barrier;

static void
barrier_wait (Barrier *b, int *phase)
{
  int ph = *phase;

  if (atomic_fetch_add (&b->count, 1) == b->n - 1)
    {
      atomic_store_explicit (&b->count, 0, memory_order_relaxed);
      atomic_store_explicit (&b->phase, ph + 1, memory_order_release);
    }
  else
    for (guint spin = 0; atomic_load_explicit (&b->phase, memory_order_acquire) == ph; spin++)
      if (spin > 50000)
        sched_yield ();
  *phase = ph + 1;
}

/* State shared by the parts (threads) running one direction of a layer. */
typedef struct {
  const WkpLstm *lstm;
  int            d, ctx, n_parts;
  float         *G;          /* [BLOCK_STEPS, nb 4 UB] in unit-block order: parts write their own columns */
  float         *hbuf[2];    /* [nb UB] ping-pong h: read the whole of one, write own units of the other */
  float         *P;          /* packed W_hh, [nb 4 H UB]: each part packs and reads its own blocks */
  float         *Wi;         /* packed W_ih, [nb 4 UB, in_dim] likewise */
  Barrier        barrier;
} Team;

/* A part's share of a forward pass: blocks [b0, b1) of the hidden units of
 * direction team->d over layers [l_begin, l_end). */
typedef struct {
  Team        *team;
  int          b0, b1, width;
  int          l_begin, l_end;
  const float *x;            /* layer 0 input: [T, input_size] or context rows (team->ctx >= 0) */
  int          input_dim;
  gint64       T;
  float       *buf[2];       /* layer outputs [T, width], alternating */
  float       *c, *bias;     /* own cell state [(b1 - b0) UB], packed biases [nb 4 UB] */
} PartJob;

/* Layer l of part @j over T steps (layout of run_direction): h_t of its
 * units goes to out[t * width + d H + u]. */
static void
run_part (PartJob *j, int l, const float *in, int in_dim, float *out, int *phase)
{
  Team *team = j->team;
  const WkpLstm *lstm = team->lstm;
  int d = team->d, H = lstm->hidden_size, nb = (H + UB - 1) / UB, G4 = nb * 4 * UB;
  int b0 = j->b0, b1 = j->b1, u0 = MIN (b0 * UB, H), nu = MIN (b1 * UB, H) - u0, rows = (b1 - b0) * 4 * UB;
  const float *Wi = team->Wi + (gsize) b0 * 4 * UB * in_dim;
  gint64 T = j->T, step = 0;
  StepBlockFn kernel = step_block_fn ();

  pack_w_ih (lstm, l, d, in_dim, b0, b1, team->Wi, j->bias);
  pack_w_hh (lstm->w_hh[l][d], H, b0, b1, team->P);
  memset (j->c, 0, sizeof (float) * UB * (b1 - b0));

  for (gint64 done = 0; done < T && rows > 0; done += BLOCK_STEPS)
    {
      int n = (int) MIN ((gint64) BLOCK_STEPS, T - done);
      gint64 t0 = d == 0 ? done : T - done - n;
      float *G = team->G + (gsize) b0 * 4 * UB;

      /* this part's columns of the input projections, seeded with the biases */
      for (int r = 0; r < n; r++)
        memcpy (G + (gsize) r * G4, j->bias + b0 * 4 * UB, sizeof (float) * rows);
      if (team->ctx >= 0 && l == 0)
        {
          int dim = in_dim / (2 * team->ctx + 1);
          for (int kk = 0; kk <= 2 * team->ctx; kk++)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, rows, dim, 1.0f, in + (t0 + kk) * dim, dim,
                         Wi + kk * dim, in_dim, 1.0f, G, G4);
        }
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, rows, in_dim, 1.0f, in + t0 * in_dim, in_dim, Wi,
                     in_dim, 1.0f, G, G4);

      for (int k = 0; k < n; k++, step++)
        {
          int r = d == 0 ? k : n - 1 - k;
          const float *g = team->G + (gsize) r * G4;
          const float *h = step == 0 ? NULL : team->hbuf[step % 2];
          float *h_next = team->hbuf[(step + 1) % 2];
          gboolean down = step % 2 == 1;   /* alternate the order: the last blocks read are the first reused */

          for (int i = 0; i < b1 - b0; i++)
            {
              int b = down ? b1 - 1 - i : b0 + i;
              const float *gb = g + b * 4 * UB;
              kernel (team->P + (gsize) b * 4 * H * UB, h, H, gb, gb + UB, gb + 2 * UB, gb + 3 * UB,
                      j->c + (b - b0) * UB, h_next + b * UB);
            }
          memcpy (out + (t0 + r) * j->width + d * H + u0, h_next + u0, sizeof (float) * nu);
          if (team->n_parts > 1)
            barrier_wait (&team->barrier, phase);
        }
    }
}

static gpointer
part_job_run (gpointer data)
{
  PartJob *j = data;
  int phase = 0;
  const float *in = j->l_begin == 0 ? j->x : j->buf[(j->l_begin - 1) % 2];
  int in_dim = j->l_begin == 0 ? j->input_dim : j->width;

  for (int l = j->l_begin; l < j->l_end; l++)
    {
      float *out = j->buf[l % 2];
      run_part (j, l, in, in_dim, out, &phase);
      in = out;
      in_dim = j->width;
    }
  return NULL;
}

static void
run_head (const WkpLstm *lstm, const float *in, gint64 T, float *y)
{
  int in_dim = lstm->hidden_size * (lstm->bidirectional ? 2 : 1);
  int O = lstm->output_size;

  for (gint64 t = 0; t < T; t++)
    memcpy (y + t * O, lstm->head_b, sizeof (float) * O);
  for (gint64 done = 0; done < T; done += G_MAXINT / 2)
    {
      int n = (int) MIN ((gint64) (G_MAXINT / 2), T - done);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, O, in_dim, 1.0f,
                   in + done * in_dim, in_dim, lstm->head_w, in_dim, 1.0f, y + done * O, O);
    }
}

/* Explicit OpenBLAS thread count (0: leave it); only calls into OpenBLAS when
 * the count changes, which matters for one-step streaming pushes. */
static void
set_threads (int n_threads)
{
  if (n_threads > 0 && openblas_get_num_threads () != n_threads)
    openblas_set_num_threads (n_threads);
}

static float *
try_alloc (gsize n, GError **error)
{
  float *p = g_try_new (float, MAX (n, 1));
  if (p == NULL)
    g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_FAILED,
                 "out of memory: LSTM needs %" G_GSIZE_FORMAT " MB of buffers", n * sizeof (float) >> 20);
  return p;
}

/* @x: [T, input_size] (ctx < 0) or the edge-padded rows of run_direction.
 * Unidirectional with >= 2 threads: each layer's hidden units are split
 * between two threads (PartJobs over all layers, one barrier per step).
 * Bidirectional with >= 2 threads: the two directions of a layer run
 * concurrently, one thread each. BLAS calls are single-threaded in both
 * cases (OpenBLAS is thread-safe for concurrent callers); otherwise BLAS
 * gets the threads. */
static gboolean
forward_impl (const WkpLstm *lstm, const float *x, int ctx, gint64 T, float *y, int n_threads, GError **error)
{
  int H = lstm->hidden_size, dirs = lstm->bidirectional ? 2 : 1, width = H * dirs, nb = (H + UB - 1) / UB;
  g_autofree float *buf_a = NULL, *buf_b = NULL, *work = NULL;
  gsize G4 = (gsize) nb * 4 * UB, max_in = MAX (lstm->input_size, width);
  gsize per_team = (gsize) BLOCK_STEPS * G4 + 2 * (gsize) nb * UB + (gsize) nb * 4 * H * UB + G4 * max_in;
  gsize per_part = (gsize) nb * UB + G4;
  int n_parts = !lstm->bidirectional && n_threads >= 2 && nb >= 2 && T >= PACK_MIN_STEPS ? 2 : 1;
  gboolean parallel_dirs = dirs == 2 && n_threads >= 2 && T >= PACK_MIN_STEPS;
  Team teams[2];
  PartJob jobs[2];

  set_threads (n_parts > 1 || parallel_dirs ? 1 : n_threads);
  if ((buf_a = try_alloc ((gsize) T * width, error)) == NULL ||
      (lstm->num_layers > 1 && (buf_b = try_alloc ((gsize) T * width, error)) == NULL))
    return FALSE;

  if (T < PACK_MIN_STEPS)
    {
      Scratch s;
      const float *in = x;
      int in_dim = lstm->input_size;
      work = g_new (float, (gsize) BLOCK_STEPS * 4 * H + 4 * H + 2 * H);
      s.G = work;
      s.bias = work + (gsize) BLOCK_STEPS * 4 * H;
      for (int l = 0; l < lstm->num_layers; l++)
        {
          float *out = (l % 2 == 0) ? buf_a : buf_b;
          for (int d = 0; d < dirs; d++)
            {
              float *h = s.bias + 4 * H, *c = h + H;
              memset (h, 0, sizeof (float) * 2 * H);
              run_direction (lstm, l, d, in, in_dim, l == 0 ? ctx : -1, T, out, width, d * H, h, c, &s);
            }
          in = out;
          in_dim = width;
        }
      run_head (lstm, in, T, y);
      return TRUE;
    }

  /* one team per direction; two jobs (the two parts of a unidirectional
   * layer, or the two directions) */
  if ((work = try_alloc (dirs * per_team + 2 * per_part, error)) == NULL)
    return FALSE;
  memset (teams, 0, sizeof teams);
  for (int k = 0; k < dirs; k++)
    {
      float *base = work + k * per_team;
      teams[k].lstm = lstm;
      teams[k].ctx = ctx;
      teams[k].G = base;
      teams[k].hbuf[0] = base + (gsize) BLOCK_STEPS * G4;
      teams[k].hbuf[1] = teams[k].hbuf[0] + nb * UB;
      teams[k].P = teams[k].hbuf[1] + nb * UB;
      teams[k].Wi = teams[k].P + (gsize) nb * 4 * H * UB;
    }
  for (int k = 0; k < 2; k++)
    {
      float *pbase = work + dirs * per_team + k * per_part;
      jobs[k].c = pbase;
      jobs[k].bias = pbase + (gsize) nb * UB;
      jobs[k].width = width;
      jobs[k].x = x;
      jobs[k].input_dim = lstm->input_size;
      jobs[k].T = T;
      jobs[k].buf[0] = buf_a;
      jobs[k].buf[1] = buf_b;
    }

  if (dirs == 1)
    {
      /* one team of n_parts threads over all layers; parts share team 0's G, h and packed W_hh */
      teams[0].n_parts = n_parts;
      teams[0].barrier.n = n_parts;
      for (int k = 0; k < n_parts; k++)
        {
          jobs[k].team = &teams[0];
          jobs[k].b0 = nb * k / n_parts;
          jobs[k].b1 = nb * (k + 1) / n_parts;
          jobs[k].l_begin = 0;
          jobs[k].l_end = lstm->num_layers;
        }
      if (n_parts > 1)
        {
          GThread *t = g_thread_new ("wkp-lstm-part", part_job_run, &jobs[1]);
          part_job_run (&jobs[0]);
          g_thread_join (t);
        }
      else
        part_job_run (&jobs[0]);
    }
  else
    for (int l = 0; l < lstm->num_layers; l++)
      {
        /* a layer needs both directions of the one below: one team per direction, layer by layer */
        for (int d = 0; d < 2; d++)
          {
            teams[d].d = d;
            teams[d].n_parts = 1;
            jobs[d].team = &teams[d];
            jobs[d].b0 = 0;
            jobs[d].b1 = nb;
            jobs[d].l_begin = l;
            jobs[d].l_end = l + 1;
          }
        if (parallel_dirs)
          {
            GThread *t = g_thread_new ("wkp-lstm-reverse", part_job_run, &jobs[1]);
            part_job_run (&jobs[0]);
            g_thread_join (t);
          }
        else
          for (int d = 0; d < 2; d++)
            part_job_run (&jobs[d]);
      }
  run_head (lstm, lstm->num_layers % 2 == 1 ? buf_a : buf_b, T, y);
  return TRUE;
}

gboolean
wkp_lstm_forward (const WkpLstm *lstm, const float *x, gint64 T, float *y, int n_threads, GError **error)
{
  if (!check_lstm (lstm, error))
    return FALSE;
  g_return_val_if_fail (T >= 0, FALSE);
  if (T == 0)
    return TRUE;
  g_return_val_if_fail (x != NULL && y != NULL, FALSE);
  return forward_impl (lstm, x, -1, T, y, n_threads, error);
}

gboolean
wkp_lstm_forward_context (const WkpLstm *lstm, const float *x, gint64 T_x, int context, gint64 n_steps, float *y,
                          int n_threads, GError **error)
{
  g_autofree float *padded = NULL;
  int dim;

  if (!check_lstm (lstm, error))
    return FALSE;
  g_return_val_if_fail (context >= 0 && n_steps >= 0 && T_x >= 1, FALSE);
  g_return_val_if_fail (lstm->input_size % (2 * context + 1) == 0, FALSE);
  if (n_steps == 0)
    return TRUE;
  g_return_val_if_fail (x != NULL && y != NULL, FALSE);
  dim = lstm->input_size / (2 * context + 1);
  /* padded row i = x[clamp (i - context, 0, T_x - 1)], i < n_steps + 2 context */
  if ((padded = try_alloc ((gsize) (n_steps + 2 * context) * dim, error)) == NULL)
    return FALSE;
  for (gint64 i = 0; i < n_steps + 2 * context; i++)
    memcpy (padded + i * dim, x + CLAMP (i - context, 0, T_x - 1) * dim, sizeof (float) * dim);
  return forward_impl (lstm, padded, context, n_steps, y, n_threads, error);
}

/* --- reference path ----------------------------------------------------------- */

static double
ref_sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

gboolean
wkp_lstm_forward_ref (const WkpLstm *lstm, const float *x, gint64 T, float *y, GError **error)
{
  int H, dirs, width;
  g_autofree double *cur = NULL, *next = NULL, *h = NULL, *c = NULL, *g = NULL;

  if (!check_lstm (lstm, error))
    return FALSE;
  g_return_val_if_fail (T >= 0, FALSE);
  if (T == 0)
    return TRUE;
  H = lstm->hidden_size;
  dirs = lstm->bidirectional ? 2 : 1;
  width = H * dirs;
  cur = g_new (double, (gsize) T * MAX (width, lstm->input_size));
  next = g_new (double, (gsize) T * width);
  h = g_new (double, H);
  c = g_new (double, H);
  g = g_new (double, 4 * H);
  for (gint64 i = 0; i < T * lstm->input_size; i++)
    cur[i] = x[i];

  for (int l = 0; l < lstm->num_layers; l++)
    {
      int in_dim = wkp_lstm_layer_input (lstm, l);
      for (int d = 0; d < dirs; d++)
        {
          const float *wi = lstm->w_ih[l][d], *wh = lstm->w_hh[l][d];
          const float *bi = lstm->b_ih[l][d], *bh = lstm->b_hh[l][d];
          for (int j = 0; j < H; j++)
            h[j] = c[j] = 0.0;
          for (gint64 k = 0; k < T; k++)
            {
              gint64 t = d == 0 ? k : T - 1 - k;
              const double *xt = cur + t * in_dim;
              for (int r = 0; r < 4 * H; r++)
                {
                  double acc = (double) bi[r] + (double) bh[r];
                  for (int q = 0; q < in_dim; q++)
                    acc += (double) wi[(gsize) r * in_dim + q] * xt[q];
                  for (int q = 0; q < H; q++)
                    acc += (double) wh[(gsize) r * H + q] * h[q];
                  g[r] = acc;
                }
              for (int j = 0; j < H; j++)
                {
                  double ig = ref_sigmoid (g[j]), fg = ref_sigmoid (g[H + j]);
                  double gg = tanh (g[2 * H + j]), og = ref_sigmoid (g[3 * H + j]);
                  c[j] = fg * c[j] + ig * gg;
                  h[j] = og * tanh (c[j]);
                  next[t * width + d * H + j] = h[j];
                }
            }
        }
      {
        double *tmp = cur;
        cur = next;
        next = tmp;
      }
    }
  for (gint64 t = 0; t < T; t++)
    for (int o = 0; o < lstm->output_size; o++)
      {
        double acc = lstm->head_b[o];
        for (int q = 0; q < width; q++)
          acc += (double) lstm->head_w[(gsize) o * width + q] * cur[t * width + q];
        y[t * lstm->output_size + o] = (float) acc;
      }
  return TRUE;
}

/* --- streaming ------------------------------------------------------------------ */

struct _WkpLstmStream {
  const WkpLstm *lstm;
  int            n_threads;
  float         *h[WKP_LSTM_MAX_LAYERS];
  float         *c[WKP_LSTM_MAX_LAYERS];
  float         *buf_a, *buf_b;
  gint64         cap;      /* steps the layer buffers hold */
  Scratch        s;
};

WkpLstmStream *
wkp_lstm_stream_new (const WkpLstm *lstm, int n_threads, GError **error)
{
  WkpLstmStream *st;

  if (!check_lstm (lstm, error))
    return NULL;
  if (lstm->bidirectional)
    {
      g_set_error_literal (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED,
                           "streaming needs a unidirectional model; this LSTM is bidirectional "
                           "(its output at a step depends on the whole future input)");
      return NULL;
    }
  st = g_new0 (WkpLstmStream, 1);
  st->lstm = lstm;
  st->n_threads = n_threads;
  for (int l = 0; l < lstm->num_layers; l++)
    {
      st->h[l] = g_new0 (float, lstm->hidden_size);
      st->c[l] = g_new0 (float, lstm->hidden_size);
    }
  st->s.G = g_new (float, (gsize) BLOCK_STEPS * 4 * lstm->hidden_size);
  st->s.bias = g_new (float, 4 * lstm->hidden_size);
  return st;
}

void
wkp_lstm_stream_reset (WkpLstmStream *st)
{
  g_return_if_fail (st != NULL);
  for (int l = 0; l < st->lstm->num_layers; l++)
    {
      memset (st->h[l], 0, sizeof (float) * st->lstm->hidden_size);
      memset (st->c[l], 0, sizeof (float) * st->lstm->hidden_size);
    }
}

void
wkp_lstm_stream_free (WkpLstmStream *st)
{
  if (st == NULL)
    return;
  for (int l = 0; l < WKP_LSTM_MAX_LAYERS; l++)
    {
      g_free (st->h[l]);
      g_free (st->c[l]);
    }
  g_free (st->buf_a);
  g_free (st->buf_b);
  g_free (st->s.G);
  g_free (st->s.bias);
  g_free (st);
}

gboolean
wkp_lstm_stream_push (WkpLstmStream *st, const float *x, gint64 T, float *y, GError **error)
{
  const WkpLstm *lstm;
  const float *in;
  int H, in_dim;

  g_return_val_if_fail (st != NULL && T >= 0, FALSE);
  if (T == 0)
    return TRUE;
  g_return_val_if_fail (x != NULL && y != NULL, FALSE);
  lstm = st->lstm;
  H = lstm->hidden_size;
  set_threads (st->n_threads);
  if (T > st->cap)
    {
      g_free (st->buf_a);
      g_free (st->buf_b);
      st->buf_b = NULL;
      if ((st->buf_a = try_alloc ((gsize) T * H, error)) == NULL ||
          (st->buf_b = try_alloc ((gsize) T * H, error)) == NULL)
        {
          g_clear_pointer (&st->buf_a, g_free);
          st->cap = 0;
          return FALSE;
        }
      st->cap = T;
    }
  in = x;
  in_dim = lstm->input_size;
  for (int l = 0; l < lstm->num_layers; l++)
    {
      float *out = (l % 2 == 0) ? st->buf_a : st->buf_b;
      run_direction (lstm, l, 0, in, in_dim, -1, T, out, H, 0, st->h[l], st->c[l], &st->s);
      in = out;
      in_dim = H;
    }
  run_head (lstm, in, T, y);
  return TRUE;
}
