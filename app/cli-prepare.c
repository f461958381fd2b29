/* placeholder until this subcommand lands; see the open issue */
#include "wkp-cli.h"
#include "wkp-error.h"

int
wkp_cli_prepare (int argc, char **argv)
{
  return wkp_cli_fail ("prepare", g_error_new_literal (WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                                                   "not available in this build yet"));
}
