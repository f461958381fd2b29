/* Compiled only while engine/wkp-landmark-io.c is still a placeholder (see
 * meson.build): the studio then reports that landmark files cannot be read
 * yet. Remove once the landmark file module has landed. */
#include "wkp-landmarks.h"

WkpLandmarkTrack *
wkp_landmark_track_load (const char *path, WkpRational fps, GError **error)
{
  g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_UNSUPPORTED, "%s: landmark files are not available yet", path);
  return NULL;
}
