import {nameCommand} from '../cli/lifecycle-command.js'
import {rollback} from '../lifecycle/index.js'

export default nameCommand('rollback', 'Restore the previous version (kept at every upgrade) through the same transaction machinery. Needs root.', rollback)
