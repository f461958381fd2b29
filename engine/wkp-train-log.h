/* wkp-train-log.h: the per-epoch history of a training run.
 *
 * `wav2kp train` writes it twice: as MODEL.csv (one row per epoch, for
 * spreadsheets and scripts) and inside the model file, as the "history"
 * member of each network's training metadata (so a model, and every member
 * of an ensemble, carries the curves it was trained along). Both read into a
 * WkpTrainLog, which the studio plots.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-model.h"

G_BEGIN_DECLS

typedef struct {
  char   *name;          /* what it is the log of: a file name, "member 2", ... */
  int     n;             /* epochs */
  int    *epoch;         /* [n], 1-based, increasing */
  double *lr;            /* [n] learning rate at the end of the epoch */
  double *train_loss;    /* [n] mean minibatch loss */
  double *val_loss;      /* [n] NaN when undefined */
  double *val_r;         /* [n] validation aperture r, NaN when undefined */
  int     best_epoch;    /* the epoch whose weights were kept (0: none) */
  double  val_loss_constant; /* validation loss of a constant prediction (the
                              * PCA mean: with identity removal each speaker's
                              * mean mouth), the level a network must get under;
                              * NaN when unknown (a CSV log, an older model) */
} WkpTrainLog;

#define WKP_TRAIN_LOG_HEADER "epoch,step,lr,train_loss,val_loss,val_aperture_r,seconds,samples_per_s,best"

void         wkp_train_log_free      (WkpTrainLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpTrainLog, wkp_train_log_free)

/* Parses the CSV text of a training log (WKP_TRAIN_LOG_HEADER, then one row
 * per epoch; the last row flagged best is the kept epoch). Errors name
 * @name, the line and the problem. */
WkpTrainLog *wkp_train_log_parse     (const char *text, gsize length, const char *name, GError **error);
/* Reads MODEL.csv. */
WkpTrainLog *wkp_train_log_load      (const char *path, GError **error);

/* The "history" object written into a model's training metadata:
 * { "epoch": [...], "lr": [...], "train_loss": [...], "val_loss": [...],
 *   "val_aperture_r": [...], "best_epoch": N, "val_loss_constant": x } (null
 * for an undefined value; "val_loss_constant" only when known, since 7 Dec 2026). */
JsonNode    *wkp_train_log_to_json   (const WkpTrainLog *log);
WkpTrainLog *wkp_train_log_from_json (JsonNode *history, const char *name, GError **error);

/* The histories a model file carries: one for a trained model, one per
 * member of an ensemble (members without one are skipped; an empty array
 * for a converted model). Each is named after @model_name ("m.wkpm") or,
 * for a member, its source file. */
GPtrArray   *wkp_model_train_logs    (const WkpModel *model, const char *model_name);

G_END_DECLS
