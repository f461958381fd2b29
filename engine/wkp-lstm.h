/* wkp-lstm.h: stacked (bi)LSTM + linear head, PyTorch layout.
 *
 * Weights follow torch.nn.LSTM exactly: for layer l and direction d
 * (0 forward, 1 reverse) w_ih [4H, in_l], w_hh [4H, H], b_ih [4H], b_hh [4H],
 * gate order i, f, g, o; in_0 = input_size, in_l = H * dirs for l > 0.
 * The head is torch.nn.Linear: head_w [out, H*dirs], head_b [out].
 * Arrays are row-major float32.
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"

G_BEGIN_DECLS

#define WKP_LSTM_MAX_LAYERS 8

typedef struct {
  int      input_size;
  int      hidden_size;
  int      num_layers;
  gboolean bidirectional;
  int      output_size;
  float   *w_ih[WKP_LSTM_MAX_LAYERS][2];
  float   *w_hh[WKP_LSTM_MAX_LAYERS][2];
  float   *b_ih[WKP_LSTM_MAX_LAYERS][2];
  float   *b_hh[WKP_LSTM_MAX_LAYERS][2];
  float   *head_w;
  float   *head_b;
  /*< private >*/
  gboolean owns_weights;   /* TRUE when allocated by wkp_lstm_new, FALSE when they point into a mapped model */
} WkpLstm;

/* Allocates zeroed weights. */
WkpLstm *wkp_lstm_new          (int input_size, int hidden_size, int num_layers, gboolean bidirectional,
                                int output_size);
void     wkp_lstm_free         (WkpLstm *lstm);
int      wkp_lstm_layer_input  (const WkpLstm *lstm, int layer);   /* in_l */
gsize    wkp_lstm_n_params     (const WkpLstm *lstm);

/* Whole-sequence forward: @x [T, input_size] -> @y [T, output_size].
 * Threads (@n_threads; 0: leave OpenBLAS's setting): with 1, everything on
 * the calling thread; with >= 2 and T >= 64 steps, a unidirectional layer's
 * hidden units are split between the caller and one extra thread (spinning
 * briefly at a per-step barrier), and a bidirectional layer runs its two
 * directions on two threads; shorter inputs give the threads to OpenBLAS.
 * Same results whatever the thread count, up to float rounding. */
gboolean wkp_lstm_forward      (const WkpLstm *lstm, const float *x, gint64 T, float *y, int n_threads,
                                GError **error);
/* wkp_lstm_forward() on a context-stacked input without building it: step t
 * (0 <= t < @n_steps) reads rows clamp (t - context .. t + context, 0, T_x - 1)
 * of @x [T_x, input_size / (2 context + 1)], concatenated. Memory is O(T_x)
 * instead of O(T_x (2 context + 1)); results equal the stacked call up to the
 * summation order (~1e-7 relative). */
gboolean wkp_lstm_forward_context (const WkpLstm *lstm, const float *x, gint64 T_x, int context, gint64 n_steps,
                                   float *y, int n_threads, GError **error);
/* The recurrence kernel of the packed path on this CPU: "avx512" (AVX-512F
 * and VL, unless WKP_LSTM_NO_AVX512 is set in the environment when the first
 * forward pass runs, to any value), "avx2" or "baseline". */
const char *wkp_lstm_kernel_name (void);
/* The same computed with plain loops, no BLAS: the reference used in tests. */
gboolean wkp_lstm_forward_ref  (const WkpLstm *lstm, const float *x, gint64 T, float *y, GError **error);

/* Checks every weight is finite; the message names the first bad tensor in
 * PyTorch naming (e.g. "lstm.weight_hh_l1_reverse"). */
gboolean wkp_lstm_check_finite (const WkpLstm *lstm, GError **error);

/* PyTorch state-dict name of a tensor: @kind is "weight_ih", "weight_hh",
 * "bias_ih" or "bias_hh"; e.g. "lstm.weight_ih_l0_reverse". */
char    *wkp_lstm_tensor_name  (const char *kind, int layer, int dir);

/* Streaming inference for unidirectional models: feed input steps chunk by
 * chunk (any chunk sizes, including 0); the outputs equal those of
 * wkp_lstm_forward() on the concatenated input (same arithmetic up to the
 * BLAS kernel's blocking, |diff| ~ 1e-7 relative). The stream keeps the
 * (h, c) state of every layer and reuses its buffers. */
typedef struct _WkpLstmStream WkpLstmStream;

WkpLstmStream *wkp_lstm_stream_new   (const WkpLstm *lstm, int n_threads, GError **error);
/* @x [T, input_size] -> @y [T, output_size]. */
gboolean       wkp_lstm_stream_push  (WkpLstmStream *stream, const float *x, gint64 T, float *y,
                                      GError **error);
void           wkp_lstm_stream_reset (WkpLstmStream *stream);
void           wkp_lstm_stream_free  (WkpLstmStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpLstm, wkp_lstm_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpLstmStream, wkp_lstm_stream_free)

G_END_DECLS
