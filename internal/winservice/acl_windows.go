package winservice

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// PrepareStateDir creates dir if needed and gives it a protected DACL:
// full control for SYSTEM, Administrators and the service's virtual
// account (NT SERVICE\<name>), inherited by everything created inside,
// and nothing inherited from the parent (ProgramData lets every user read).
func PrepareStateDir(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("winservice: state directory: %w", err)
	}
	sid, _, _, err := windows.LookupSID("", `NT SERVICE\`+name)
	if err != nil {
		return fmt.Errorf("winservice: the service's account: %w", err)
	}
	sddl := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;" + sid.String() + ")"
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("winservice: security descriptor: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("winservice: security descriptor: %w", err)
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("winservice: set the state directory's permissions: %w", err)
	}
	return nil
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
