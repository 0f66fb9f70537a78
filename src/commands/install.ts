import {payloadCommand} from '../cli/lifecycle-command.js'
import {install} from '../lifecycle/index.js'

export default payloadCommand('install', 'Install the daemon from a payload (a directory or .tar.gz with esdctl.json) under /opt/<name>, verified, and run it under launchd; an installed one is upgraded.', install)
