package rpmhdr

// Tag is an RPM header tag number.
type Tag int32

// Tags used across sock. Numbers are rpm's (lib/rpmtag.h).
const (
	TagHeaderImmutable Tag = 63
	TagI18NTable       Tag = 100

	TagSigSize        Tag = 257
	TagSigMD5         Tag = 261
	TagDSAHeader      Tag = 267
	TagRSAHeader      Tag = 268
	TagSHA1Header     Tag = 269
	TagLongSigSize    Tag = 270
	TagLongArchive    Tag = 271
	TagSHA256Header   Tag = 273
	TagName           Tag = 1000
	TagVersion        Tag = 1001
	TagRelease        Tag = 1002
	TagEpoch          Tag = 1003
	TagSummary        Tag = 1004
	TagDescription    Tag = 1005
	TagBuildTime      Tag = 1006
	TagBuildHost      Tag = 1007
	TagInstallTime    Tag = 1008
	TagSize           Tag = 1009
	TagVendor         Tag = 1011
	TagLicense        Tag = 1014
	TagGroup          Tag = 1016
	TagURL            Tag = 1020
	TagArch           Tag = 1022
	TagPreIn          Tag = 1023
	TagPostIn         Tag = 1024
	TagPreUn          Tag = 1025
	TagPostUn         Tag = 1026
	TagFileSizes      Tag = 1028
	TagFileStates     Tag = 1029
	TagFileModes      Tag = 1030
	TagFileRdevs      Tag = 1033
	TagFileMtimes     Tag = 1034
	TagFileDigests    Tag = 1035
	TagFileLinkTos    Tag = 1036
	TagFileFlags      Tag = 1037
	TagFileUserName   Tag = 1039
	TagFileGroupName  Tag = 1040
	TagSourceRPM      Tag = 1044
	TagArchiveSize    Tag = 1046
	TagProvideName    Tag = 1047
	TagRequireFlags   Tag = 1048
	TagRequireName    Tag = 1049
	TagRequireVersion Tag = 1050
	TagConflictFlags  Tag = 1053
	TagConflictName   Tag = 1054
	TagConflictVer    Tag = 1055
	TagPreInProg      Tag = 1085
	TagPostInProg     Tag = 1086
	TagPreUnProg      Tag = 1087
	TagPostUnProg     Tag = 1088
	TagObsoleteName   Tag = 1090
	TagFileDevices    Tag = 1095
	TagFileInodes     Tag = 1096
	TagFileLangs      Tag = 1097
	TagProvideFlags   Tag = 1112
	TagProvideVersion Tag = 1113
	TagObsoleteFlags  Tag = 1114
	TagObsoleteVer    Tag = 1115
	TagDirIndexes     Tag = 1116
	TagBaseNames      Tag = 1117
	TagDirNames       Tag = 1118
	TagPayloadFormat  Tag = 1124
	TagPayloadComp    Tag = 1125
	TagPayloadFlags   Tag = 1126
	TagInstallColor   Tag = 1127
	TagInstallTID     Tag = 1128
	TagFileColors     Tag = 1140
	TagPreTrans       Tag = 1151
	TagPostTrans      Tag = 1152
	TagPreTransProg   Tag = 1153
	TagPostTransProg  Tag = 1154
	TagLongFileSizes  Tag = 5008
	TagLongSize       Tag = 5009
	TagFileCaps       Tag = 5010
	TagFileDigestAlgo Tag = 5011
	TagRecommendName  Tag = 5046
	TagRecommendVer   Tag = 5047
	TagRecommendFlags Tag = 5048
	TagSuggestName    Tag = 5049
	TagSuggestVer     Tag = 5050
	TagSuggestFlags   Tag = 5051
	TagSupplementName Tag = 5052
	TagSupplementVer  Tag = 5053
	TagSupplementFlag Tag = 5054
	TagEnhanceName    Tag = 5055
	TagEnhanceVer     Tag = 5056
	TagEnhanceFlags   Tag = 5057
	TagPayloadDigest  Tag = 5092 // RPMTAG_PAYLOADDIGEST
	TagPayloadDigAlgo Tag = 5093

	// Added for internal/rpmdb: the signature tags as merged into an
	// installed header, and the tags rpm indexes.
	TagSigPGP          Tag = 259
	TagSigGPG          Tag = 262
	TagSigPGP5         Tag = 263
	TagTriggerName     Tag = 1066
	TagSourcePackage   Tag = 1106
	TagFileTriggerName Tag = 5069
	TagFileTriggerIdx  Tag = 5070
	TagTransFileTrig   Tag = 5079 // RPMTAG_TRANSFILETRIGGERNAME
	TagTransFileTrigIx Tag = 5080 // RPMTAG_TRANSFILETRIGGERINDEX
	TagFileSignatures  Tag = 5090
	TagFileSigLength   Tag = 5091

	// Added for sew's triggers; numbers checked on rpmbuild 4.18's output
	// against rpm -qp --qf %{TRIGGERNAME} and friends. Each family is
	// parallel arrays: NAME, VERSION, FLAGS and INDEX one per condition
	// (sorted by name, INDEX naming the trigger), SCRIPTS, SCRIPTPROG and
	// PRIORITIES one per trigger.
	TagTriggerScripts          Tag = 1065
	TagTriggerVersion          Tag = 1067
	TagTriggerFlags            Tag = 1068
	TagTriggerIndex            Tag = 1069
	TagTriggerScriptProg       Tag = 1092
	TagFileTriggerScripts      Tag = 5066
	TagFileTriggerScriptProg   Tag = 5067
	TagFileTriggerVersion      Tag = 5071
	TagFileTriggerFlags        Tag = 5072
	TagTransFileTrigScripts    Tag = 5076
	TagTransFileTrigScriptProg Tag = 5077
	TagTransFileTrigVersion    Tag = 5081
	TagTransFileTrigFlags      Tag = 5082
	TagFileTriggerPriorities   Tag = 5084
	TagTransFileTrigPriorities Tag = 5085

	// Added for sock index (other.xml and primary.xml's packager).
	TagPackager      Tag = 1015
	TagChangelogTime Tag = 1080
	TagChangelogName Tag = 1081
	TagChangelogText Tag = 1082
)

// Signature header tags (lib/rpmtag.h, RPMSIGTAG_*).
const (
	SigTagSize        Tag = 1000
	SigTagPGP         Tag = 1002
	SigTagMD5         Tag = 1004
	SigTagGPG         Tag = 1005
	SigTagPayloadSize Tag = 1007
	SigTagReserved    Tag = 1008
	SigTagPGP5        Tag = 1006
	SigTagFileSigs    Tag = 274 // RPMSIGTAG_FILESIGNATURES
	SigTagFileSigLen  Tag = 275 // RPMSIGTAG_FILESIGNATURELENGTH
)

// Type is an RPM header data type.
type Type uint32

// The header data types.
const (
	TypeNull        Type = 0
	TypeChar        Type = 1
	TypeInt8        Type = 2
	TypeInt16       Type = 3
	TypeInt32       Type = 4
	TypeInt64       Type = 5
	TypeString      Type = 6
	TypeBin         Type = 7
	TypeStringArray Type = 8
	TypeI18NString  Type = 9
)

// align is the alignment rpm gives each type in the data store.
func (t Type) align() int {
	switch t {
	case TypeInt16:
		return 2
	case TypeInt32:
		return 4
	case TypeInt64:
		return 8
	}
	return 1
}

// size is the size of one element of fixed-size types, 0 for strings.
func (t Type) size() int {
	switch t {
	case TypeChar, TypeInt8, TypeBin:
		return 1
	case TypeInt16:
		return 2
	case TypeInt32:
		return 4
	case TypeInt64:
		return 8
	}
	return 0
}

// Sense flags of dependencies (rpmds.h rpmsenseFlags), as the *FLAGS tags
// hold them.
const (
	SenseLess         = 1 << 1
	SenseGreater      = 1 << 2
	SenseEqual        = 1 << 3
	SensePosttrans    = 1 << 5
	SensePrereq       = 1 << 6
	SensePretrans     = 1 << 7
	SenseScriptPre    = 1 << 9
	SenseScriptPost   = 1 << 10
	SenseScriptPreUn  = 1 << 11
	SenseScriptPostUn = 1 << 12
	SenseTriggerIn    = 1 << 16
	SenseRPMLib       = 1 << 24
	SenseTriggerPreIn = 1 << 25
	SenseKeyring      = 1 << 26
	SenseMeta         = 1 << 29
)
