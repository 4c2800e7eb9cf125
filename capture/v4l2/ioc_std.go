//go:build !(mips || mipsle || mips64 || mips64le || ppc64 || ppc64le)

package v4l2

// The generic ioctl number layout (asm-generic/ioctl.h): x86, ARM, RISC-V,
// LoongArch and s390.
const (
	iocWrite     = 1
	iocRead      = 2
	iocDirShift  = 30
	iocSizeShift = 16
)
