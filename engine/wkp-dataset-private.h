/* wkp-dataset-private.h: shared between the dataset reader and the preparer. */
#pragma once

#include "wkp-dataset.h"

G_BEGIN_DECLS

/* Extra per-clip data that only the preparer needs (kept in clip.json). */
typedef struct {
  WkpDatasetClip clip;
  char   *key;            /* full cache key (hex) */
  char   *landmark_key;   /* key of the landmark part (hex) */
  int     feature_dim;
  float  *face_mean;      /* [136] mean normalised face of this clip, NULL if no face */
} WkpClipRecord;

void       wkp_clip_record_clear      (WkpClipRecord *rec);
/* @with_stats: include the per-clip feature mean/std and mean face (clip.json);
 * the manifest keeps those in clip_feature_{mean,std}.npy instead. */
JsonNode  *wkp_clip_record_to_json    (const WkpClipRecord *rec, gboolean with_stats);
gboolean   wkp_clip_record_from_json  (JsonNode *node, WkpClipRecord *rec, const char *name,
                                       GError **error);

JsonNode  *wkp_landmark_params_to_json   (const WkpLandmarkParams *params);
gboolean   wkp_landmark_params_from_json (JsonNode *node, WkpLandmarkParams *params, GError **error);

/* Checks the values of one clip array that parsed with the right dtype and
 * shape: features and audio must be finite, status codes valid
 * (WkpFaceStatus); the other arrays may hold NaN (no face). @path is for the
 * message. A linear scan. */
gboolean   wkp_clip_array_check_values (const WkpNpy *npy, WkpClipArray which, const char *path,
                                        GError **error);

/* Pixel landmarks -> canonical landmarks + transform rows for @n frames. */
void       wkp_dataset_normalize_track (const float *pixels, gint64 n, float *normalized,
                                        float *transform, gint64 *n_face);

/* The readable start of a clip id made from its short name (the id adds a
 * hash): only letters, digits, '-' and '_', never a leading '-'. */
char      *wkp_clip_id_base            (const char *name);

G_END_DECLS
