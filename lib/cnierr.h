/* CNI error codes (CNI spec, "Error" section) and shoal's own codes (100+). */
#pragma once

enum {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN_LATER = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_LIMITED_CONNECTIVITY = 51,
	/* shoal's own */
	SHOAL_ERR_INTERNAL = 100,
	SHOAL_ERR_EXISTS = 101,        /* ADD for an attachment that already exists */
	SHOAL_ERR_NO_ADDRESS = 102,    /* the host subnet has no free address */
	SHOAL_ERR_KERNEL = 103,        /* the kernel refused a change */
	SHOAL_ERR_CHECK_FAILED = 104,  /* CHECK found the attachment not as it should be */
	SHOAL_ERR_HOST_FULL = 105,     /* the bridge has no free port (a Linux bridge takes 1023) */
	SHOAL_ERR_SUBNET_TAKEN = 106,  /* another node claimed this node's subnet while its lease was lost */
	SHOAL_ERR_BANDWIDTH = 107,     /* admission control: the bandwidth asked for does not fit the host */
};
