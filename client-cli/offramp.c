/* offramp.c: the offramp binary (everything is in offramp_main). */
#include "offramp_main.h"

int
main(int argc, char **argv)
{
	return offramp_main(argc, argv);
}
